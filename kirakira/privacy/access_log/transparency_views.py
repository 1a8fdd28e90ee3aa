"""The member's page of the accesses to their own data (``transparency``). It names nobody else:
the URL has no member in it, and the list is always the signed-in member's."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import ListView

from . import transparency


class MyAccessLogView(LoginRequiredMixin, ListView):
    template_name = "privacy/my_access_log.html"
    context_object_name = "accesses"
    paginate_by = 20

    def get_queryset(self):
        return transparency.accesses_of(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["accesses"] = transparency.accesses(context["accesses"])
        return context
