from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from kirakira.accounts import api as accounts_api
from kirakira.accounts import withdraw_api
from kirakira.breaches import api as breaches_api
from kirakira.consultations import api as consultations_api
from kirakira.legal import api as legal_api
from kirakira.orders import api as orders_api
from kirakira.privacy.access_log import transparency_api as access_log_api
from kirakira.privacy.rights import api as rights_api
from kirakira.privacy.rights import export_api, my_data_api

v1 = [
    path("auth/register", accounts_api.RegisterApi.as_view(), name="auth-register"),
    path("auth/token", accounts_api.TokenApi.as_view(), name="auth-token"),
    path("auth/logout", accounts_api.LogoutApi.as_view(), name="auth-logout"),
    path("auth/logout-all", accounts_api.LogoutAllApi.as_view(), name="auth-logout-all"),
    path("auth/tokens", accounts_api.TokensApi.as_view(), name="auth-tokens"),
    path("auth/tokens/<uuid:token_id>", accounts_api.TokenDetailApi.as_view(), name="auth-token-detail"),
    path("auth/confirm-email", accounts_api.ConfirmEmailApi.as_view(), name="auth-confirm-email"),
    path("auth/password-reset", accounts_api.PasswordResetApi.as_view(), name="auth-password-reset"),
    path(
        "auth/password-reset/confirm",
        accounts_api.PasswordResetConfirmApi.as_view(),
        name="auth-password-reset-confirm",
    ),
    path("me", accounts_api.MeApi.as_view(), name="me"),
    path("me/confirmation", accounts_api.ConfirmationResendApi.as_view(), name="me-confirmation"),
    path("me/password", accounts_api.PasswordChangeApi.as_view(), name="me-password"),
    path("me/withdraw", withdraw_api.WithdrawApi.as_view(), name="me-withdraw"),
    path("terms", legal_api.TermsApi.as_view(), name="terms"),
    path("terms/agreement", legal_api.TermsAgreementApi.as_view(), name="terms-agreement"),
    path("services", orders_api.ServicesApi.as_view(), name="services"),
    path("orders", orders_api.OrdersApi.as_view(), name="orders"),
    path("orders/<str:order_id>", orders_api.OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<str:order_id>/cancel", orders_api.OrderCancelApi.as_view(), name="order-cancel"),
    path("orders/<str:order_id>/receipt", orders_api.OrderReceiptApi.as_view(), name="order-receipt"),
    path(
        "orders/<str:order_id>/refund-account",
        orders_api.OrderRefundAccountApi.as_view(),
        name="order-refund-account",
    ),
    path("consultations", consultations_api.ConsultationsApi.as_view(), name="consultations"),
    path(
        "consultations/<str:consultation_id>",
        consultations_api.ConsultationDetailApi.as_view(),
        name="consultation-detail",
    ),
    path(
        "consultations/<str:consultation_id>/messages",
        consultations_api.ConsultationMessagesApi.as_view(),
        name="consultation-messages",
    ),
    path(
        "consultations/<str:consultation_id>/close",
        consultations_api.ConsultationCloseApi.as_view(),
        name="consultation-close",
    ),
    path(
        "consultations/<str:consultation_id>/reopen",
        consultations_api.ConsultationReopenApi.as_view(),
        name="consultation-reopen",
    ),
    path(
        "consultations/<str:consultation_id>/attachments/<str:attachment_id>",
        consultations_api.ConsultationAttachmentApi.as_view(),
        name="consultation-attachment",
    ),
    path("privacy/access-log", access_log_api.AccessLogApi.as_view(), name="privacy-access-log"),
    path(
        "privacy/access-log/<str:access_id>",
        access_log_api.AccessLogDetailApi.as_view(),
        name="privacy-access-log-detail",
    ),
    path("privacy/my-data", my_data_api.MyDataApi.as_view(), name="privacy-my-data"),
    path("privacy/notices", breaches_api.NoticesApi.as_view(), name="privacy-notices"),
    path("privacy/identity-code", rights_api.IdentityCodeApi.as_view(), name="privacy-identity-code"),
    path("privacy/requests", rights_api.RequestsApi.as_view(), name="privacy-requests"),
    path(
        "privacy/requests/<str:request_id>",
        rights_api.RequestDetailApi.as_view(),
        name="privacy-request-detail",
    ),
    path(
        "privacy/exports/<str:request_id>/download",
        export_api.ExportDownloadApi.as_view(),
        name="privacy-export-download",
    ),
]

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file of its own (?script), so the
    # page needs no inline script under the Content-Security-Policy; the template has no inline
    # style either.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="docs",
    ),
]
