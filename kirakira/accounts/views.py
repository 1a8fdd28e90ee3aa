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

from kirakira.consultations import selectors as consultation_selectors
from kirakira.privacy.policy.selectors import last_acknowledged

from . import services
from .forms import LoginForm, PasswordResetRequestForm, ProfileForm, RegistrationForm

BACKEND = "django.contrib.auth.backends.ModelBackend"


class RegisterView(FormView):
    template_name = "accounts/register.html"
    form_class = RegistrationForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect("accounts:mypage")
        return super().dispatch(request, *args, **kwargs)

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


class ConfirmEmailView(View):
    def get(self, request, uidb64, token):
        try:
            user_id = force_str(urlsafe_base64_decode(uidb64))
            user, result = services.member_confirm_email(user_id=user_id, token=token)
        except (ValueError, TypeError, OverflowError, ValidationError) as exc:
            message = (
                exc.messages[0]
                if isinstance(exc, ValidationError)
                else _("This confirmation link is invalid, has expired or has already been used.")
            )
            return render(
                request,
                "common/error.html",
                {"title": _("Email confirmation failed"), "message": message},
                status=400,
            )
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
        form.save()
        return super().form_valid(form)
