from django.views.generic import TemplateView

from kirakira.orders.selectors import services_on_sale


class HomeView(TemplateView):
    template_name = "common/home.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "services": services_on_sale()}
