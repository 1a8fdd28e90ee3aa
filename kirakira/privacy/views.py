from django.views.generic import TemplateView


class PolicyView(TemplateView):
    template_name = "privacy/policy.html"
