from django.views.generic import TemplateView

from . import disclosure


class CommerceDisclosureView(TemplateView):
    """特定商取引法に基づく表記, generated from the settings and the catalog."""

    template_name = "legal/commerce.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "rows": disclosure.rows()}
