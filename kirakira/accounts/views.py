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

from kirakira.breaches import selectors as breach_selectors
from kirakira.common.client_ip import client_ip
from kirakira.common.ratelimit import throttle_wait
from kirakira.consultations import selectors as consultation_selectors
from kirakira.privacy.policy.selectors import last_acknowledged

from . import services
from .forms import LoginForm, PasswordResetRequestForm, ProfileForm, RegistrationForm
from .throttles import registration_message

BACKEND = "kirakira.accounts.backends.SessionUserBackend"


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


def _user_id(uidb64: str) -> str:
    """The account ID in a link's ``uidb64``, as text (the service checks that it is one)."""
    try:
        return force_str(urlsafe_base64_decode(uidb64))
    except (ValueError, TypeError, OverflowError):  # not base64, or not text once decoded
        return ""


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
        try:
            user = services.member_check_confirmation(user_id=_user_id(uidb64), token=token)
        except ValidationError as exc:
            return self._failed(request, exc.messages[0])
        return render(request, self.template_name, {"email_change": bool(user.pending_email)})

    def post(self, request, uidb64, token):
        try:
            user, result = services.member_confirm_email(user_id=_user_id(uidb64), token=token)
        except ValidationError as exc:
            return self._failed(request, exc.messages[0])
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
            "incident_notices": breach_selectors.notice_count(request.user),
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request):
        return self._render(
            request, ProfileForm(initial={"name": request.user.name, "email": request.user.email})
        )

    def post(self, request):
        form = ProfileForm(request.POST, user=request.user)
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
    """The same service as the API's resend, with its limit per address the link goes to."""

    def post(self, request):
        try:
            services.member_confirmation_resend(user=request.user)
        except ValidationError as exc:
            if exc.code == "rate_limited":
                response = render(
                    request,
                    "common/error.html",
                    {"title": _("Too many requests"), "message": exc.messages[0]},
                    status=429,
                )
                response["Retry-After"] = str(exc.params["retry_after"])
                return response
            return redirect("accounts:mypage")  # nothing awaits confirmation
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
