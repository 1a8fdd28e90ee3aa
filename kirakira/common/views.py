from functools import lru_cache
from pathlib import Path

from django.http import HttpResponse
from django.utils.cache import patch_cache_control
from django.views.generic import TemplateView

from kirakira.orders.selectors import services_on_sale


class HomeView(TemplateView):
    template_name = "common/home.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "services": services_on_sale()}


_FAVICON = Path(__file__).resolve().parent / "static" / "kirakira" / "favicon.ico"


@lru_cache(maxsize=1)
def _favicon_bytes() -> bytes:
    return _FAVICON.read_bytes()


def favicon(request):
    """``/favicon.ico``, which browsers and feed readers ask for at the root whatever the page
    links: the site's icon, cached for a day (pages link the SVG and the touch icon)."""
    response = HttpResponse(_favicon_bytes(), content_type="image/x-icon")
    patch_cache_control(response, public=True, max_age=24 * 60 * 60)
    return response
