from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy
from django.views.generic import TemplateView

from . import sessions_views, views, withdraw_views
from .emails import first_password_token

app_name = "accounts"

urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="register"),
    path("confirm/<str:uidb64>/<str:token>/", views.ConfirmEmailView.as_view(), name="confirm_email"),
    path("confirm/resend/", views.ResendConfirmationView.as_view(), name="resend_confirmation"),
    path("login/", views.KirakiraLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("mypage/", views.MyPageView.as_view(), name="mypage"),
    path("sessions/", sessions_views.LoginsView.as_view(), name="sessions"),
    path("sessions/<uuid:session_id>/end/", sessions_views.SessionEndView.as_view(), name="session_end"),
    path("sessions/tokens/<uuid:token_id>/end/", sessions_views.TokenEndView.as_view(), name="token_end"),
    path("withdraw/", withdraw_views.WithdrawView.as_view(), name="withdraw"),
    path("withdraw/confirm/", withdraw_views.WithdrawConfirmView.as_view(), name="withdraw_confirm"),
    path("withdraw/done/", withdraw_views.WithdrawDoneView.as_view(), name="withdraw_done"),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(
            template_name="accounts/form_page.html",
            success_url=reverse_lazy("accounts:password_change_done"),
            extra_context={"page": "password_change"},
        ),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_change_done.html"),
        name="password_change_done",
    ),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        TemplateView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password/reset/<str:uidb64>/<str:token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/form_page.html",
            success_url=reverse_lazy("accounts:password_reset_complete"),
            extra_context={"page": "password_reset_confirm"},
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/first/<str:uidb64>/<str:token>/",
        auth_views.PasswordResetConfirmView.as_view(
            token_generator=first_password_token,  # a new staff account's link: 3 days, not 1 hour
            template_name="accounts/form_page.html",
            success_url=reverse_lazy("accounts:password_reset_complete"),
            extra_context={"page": "password_reset_confirm"},
        ),
        name="first_password",
    ),
    path(
        "password/reset/complete/",
        TemplateView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
]
