from django.contrib import admin
from django.http import HttpRequest
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from kirakira.api import errors as api_errors
from kirakira.api.urls import urlpatterns as api_docs_urls
from kirakira.api.urls import v1 as api_v1_urls
from kirakira.common import errors as page_errors
from kirakira.common import health
from kirakira.common.i18n_urls import i18n_patterns
from kirakira.common.page_cache import visitor_page
from kirakira.common.views import HomeView, favicon
from kirakira.privacy.dashboard.views import dashboard_view as privacy_dashboard

admin.site.site_header = _("Kirakira back office")
admin.site.site_title = _("Kirakira back office")
admin.site.index_template = "admin/kirakira_index.html"

urlpatterns = [
    # Probes, outside the language prefix; answered first by HealthMiddleware (kirakira/common/health.py).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("favicon.ico", favicon, name="favicon"),
    path("api/v1/", include((api_v1_urls, "api_v1"))),
    path("api/", include(api_docs_urls)),
]

urlpatterns += i18n_patterns(
    path("", visitor_page(HomeView.as_view()), name="home"),
    path("accounts/", include("kirakira.accounts.urls")),
    path("privacy/", include("kirakira.privacy.urls")),
    path("orders/", include("kirakira.orders.urls")),
    path("consultations/", include("kirakira.consultations.urls")),
    path("consent/", include("kirakira.consent.urls")),
    path("legal/", include("kirakira.legal.urls")),
    path("notices/", include("kirakira.breaches.urls")),
    # The gate before personal data (second factor, pledge, training): before the back office,
    # whose catch-all would otherwise take these URLs.
    path("backoffice/gate/", include("kirakira.accounts.gate.urls")),
    path("backoffice/dashboard/", admin.site.admin_view(privacy_dashboard), name="privacy_dashboard"),
    path("backoffice/", admin.site.urls),
)


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def handler404(request, exception=None):
    return (api_errors.not_found if _is_api(request) else page_errors.not_found)(request, exception)


def handler500(request):
    return (api_errors.server_error if _is_api(request) else page_errors.server_error)(request)


def handler400(request, exception=None):
    return (api_errors.bad_request if _is_api(request) else page_errors.bad_request)(request, exception)


def handler403(request, exception=None):
    return (api_errors.permission_denied if _is_api(request) else page_errors.permission_denied)(
        request, exception
    )
