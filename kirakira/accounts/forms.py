from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from kirakira.common.forms import apply_service_errors

from . import services
from .normalization import LOGIN_ID_MAX, NAME_MAX
from .throttles import slowdown_message


class RegistrationForm(forms.Form):
    # Lengths are checked by the service after folding and trimming, so that the message names
    # the real limit; the input's maxlength only stops absurdly long input.
    login_id = forms.CharField(
        label=_("Login ID"),
        help_text=_("4–30 characters: lowercase letters a–z, digits 0–9, and _ . -"),
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "maxlength": LOGIN_ID_MAX * 2}
        ),
    )
    name = forms.CharField(
        label=_("Name"),
        strip=False,
        widget=forms.TextInput(attrs={"autocomplete": "name", "maxlength": NAME_MAX + 20}),
    )
    email = forms.CharField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters; not too common, not all digits, not like your login ID."),
    )
    password2 = forms.CharField(
        label=_("Password (again)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    accept_terms = forms.BooleanField(
        label=_("I have read the terms of service and agree to them."),
        error_messages={"required": _("Agree to the terms of service to register.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["accept_terms"].help_text = format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            reverse("legal:terms"),
            _("Read the terms of service (opens in a new tab)"),
        )

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("password1")
            and cleaned.get("password2")
            and cleaned["password1"] != cleaned["password2"]
        ):
            self.add_error("password2", _("The two passwords do not match."))
            # register() is not reached now: the service's checks of the other fields run here, so
            # that every error shows at once (fields already refused keep their own message).
            self._add_service_errors(
                services.registration_errors(
                    login_id=cleaned.get("login_id", ""),
                    name=cleaned.get("name", ""),
                    email=cleaned.get("email", ""),
                    password=cleaned["password1"],
                    language="ja",
                )
            )
        return cleaned

    def _add_service_errors(self, errors: dict) -> None:
        for field, messages in errors.items():
            name = "password1" if field == "password" else field
            if name in self.fields and name not in self.errors:
                self.add_error(name, messages)

    def register(self, *, language: str):
        try:
            return services.member_register(
                login_id=self.cleaned_data["login_id"],
                name=self.cleaned_data["name"],
                email=self.cleaned_data["email"],
                password=self.cleaned_data["password1"],
                language=language,
                accept_terms=self.cleaned_data["accept_terms"],
            )
        except ValidationError as exc:
            apply_service_errors(self, exc, {"password": "password1"})
            return None


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Login ID"),
        max_length=LOGIN_ID_MAX * 2,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}
        ),
    )
    error_messages = {
        "invalid_login": _("The login ID or password is incorrect."),
        "inactive": _("This account is inactive."),
    }

    def get_invalid_login_error(self):
        wait = getattr(self.request, "login_turned_away", 0)
        if wait:
            # Said above the form (which keeps the login ID); the answer becomes a 429.
            self.request.login_slowdown_in_form = True
            return ValidationError(slowdown_message(wait), code="login_slowed_down")
        return super().get_invalid_login_error()


class ProfileForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        strip=False,
        widget=forms.TextInput(attrs={"autocomplete": "name", "maxlength": NAME_MAX + 20}),
    )
    email = forms.CharField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("A new address takes effect after you open the confirmation link we send to it."),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        cleaned = super().clean()
        if self.errors and self.user is not None:
            # save() is not reached now: the service's checks of the fields not yet refused run
            # here, so that every error shows at once (an empty name beside a taken address).
            errors = services.profile_errors(
                user=self.user,
                name=cleaned["name"] if "name" in cleaned else None,
                email=cleaned["email"] if "email" in cleaned else None,
            )
            for field, messages in errors.items():
                if field not in self.errors:
                    self.add_error(field, messages)
        return cleaned

    def save(self, *, user) -> bool | None:
        try:
            return services.member_update_profile(
                user=user, name=self.cleaned_data["name"], email=self.cleaned_data["email"]
            )
        except ValidationError as exc:
            apply_service_errors(self, exc)
            return None


class PasswordResetRequestForm(forms.Form):
    email = forms.CharField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def save(self, *, ip: str | None) -> int:
        """0 once the request is taken (a link is sent if the address is registered; the page
        says the same either way), or the seconds to wait, with the reason on the form."""
        try:
            services.member_request_password_reset(email=self.cleaned_data["email"], ip=ip)
        except ValidationError as exc:
            if getattr(exc, "code", None) != "rate_limited":
                raise
            apply_service_errors(self, exc)
            return exc.params["retry_after"]
        return 0
