import uuid

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView

from kirakira.common.client_ip import client_ip
from kirakira.common.ratelimit import throttle_wait
from kirakira.consultations import selectors as consultation_selectors
from kirakira.privacy.policy.selectors import last_acknowledged

from . import services
from .forms import LoginForm, PasswordResetRequestForm, ProfileForm, RegistrationForm
from .models import User
from .throttles import registration_message
from .tokens import email_confirmation_token

BACKEND = "django.contrib.auth.backends.ModelBackend"


class RegisterView(FormView):
    template_name = "accounts/register.html"
    form_class = RegistrationForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect("accounts:mypage")
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        # Every attempt counts, in the API's counter for this address (one limit for both).
        wait = throttle_wait(request, "register")
        if wait:
            form = self.get_form()
            form.add_error(None, registration_message(wait))
            return _too_many(self.render_to_response(self.get_context_data(form=form)), wait)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        user = form.register(language=get_language())
        if user is None:
            return self.form_invalid(form)
        login(self.request, user, backend=BACKEND)
        messages.success(
            self.request,
            _("Welcome! We have sent a confirmation link to your email address. Open it to start ordering."),
        )
        return redirect("accounts:mypage")


def _confirmation_target(uidb64: str, token: str) -> tuple[User | None, str | None]:
    """The member a confirmation link is for, or why it cannot be used; reads only (the service
    checks again, under a row lock, when the button is pressed)."""
    invalid = _("This confirmation link is invalid, has expired or has already been used.")
    try:
        user_id = uuid.UUID(force_str(urlsafe_base64_decode(uidb64)))
    except (ValueError, TypeError, OverflowError):
        return None, invalid
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not email_confirmation_token.check_token(user, token):
        return None, invalid
    if user.pending_email:
        if User.objects.with_email(user.pending_email).exclude(pk=user.pk).exists():
            return None, _("This email address is already registered.")
    elif user.email_confirmed_at is not None:
        return None, invalid
    return user, None


class ConfirmEmailView(View):
    """The link mailed at registration and on an email change. GET shows a button and POST
    confirms, so that a mail scanner fetching the link confirms nothing; a link that cannot be
    used says so on GET already. (The visitor need not be logged in: the form's CSRF cookie is
    the site's declared one.)"""

    template_name = "accounts/confirm_email.html"

    def _failed(self, request, message):
        return render(
            request,
            "common/error.html",
            {"title": _("Email confirmation failed"), "message": message},
            status=400,
        )

    def get(self, request, uidb64, token):
        user, error = _confirmation_target(uidb64, token)
        if error is not None:
            return self._failed(request, error)
        return render(request, self.template_name, {"email_change": bool(user.pending_email)})

    def post(self, request, uidb64, token):
        try:
            user_id = force_str(urlsafe_base64_decode(uidb64))
            user, result = services.member_confirm_email(user_id=user_id, token=token)
        except (ValueError, TypeError, OverflowError, ValidationError) as exc:
            message = (
                exc.messages[0]
                if isinstance(exc, ValidationError)
                else _("This confirmation link is invalid, has expired or has already been used.")
            )
            return self._failed(request, message)
        if result == services.ConfirmationResult.EMAIL_CHANGE:
            messages.success(request, _("Your new email address is confirmed."))
        else:
            messages.success(request, _("Your email address is confirmed. You can now order services."))
        return redirect("accounts:mypage" if request.user.is_authenticated else "accounts:login")


class KirakiraLoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class MyPageView(LoginRequiredMixin, View):
    template_name = "accounts/mypage.html"

    def _render(self, request, form, status=200):
        context = {
            "form": form,
            "policy_acknowledgement": last_acknowledged(request.user),
            "answered_consultations": consultation_selectors.answered_for(request.user)[:10],
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request):
        return self._render(
            request, ProfileForm(initial={"name": request.user.name, "email": request.user.email})
        )

    def post(self, request):
        form = ProfileForm(request.POST)
        if form.is_valid():
            changed_email = form.save(user=request.user)
            if changed_email is not None:
                if changed_email:
                    messages.success(
                        request,
                        _(
                            "Saved. We have sent a confirmation link to your new email address; "
                            "until you open it, we keep using the current one."
                        ),
                    )
                else:
                    messages.success(request, _("Your profile is saved."))
                return redirect("accounts:mypage")
        return self._render(request, form, status=400)


class ResendConfirmationView(LoginRequiredMixin, View):
    def post(self, request):
        services.member_resend_confirmation(user=request.user)
        messages.success(request, _("We have sent the confirmation link again."))
        return redirect("accounts:mypage")


class PasswordResetView(FormView):
    template_name = "accounts/password_reset.html"
    form_class = PasswordResetRequestForm
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        wait = form.save(ip=client_ip(self.request))
        if wait:
            return _too_many(self.render_to_response(self.get_context_data(form=form)), wait)
        return super().form_valid(form)


def _too_many(response, wait: int):
    """A page redrawn with the limit's message above its form (what was typed is kept)."""
    response.status_code = 429
    response["Retry-After"] = str(wait)
    return response
