"""The member's "My data" page (policy C7): everything held about them, grouped as the policy
groups it, each value with its purposes, its retention rule and the date it will be disposed
of, and the menu of their rights. Staff accounts ask the privacy officer instead."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from kirakira.common import clock

from . import selectors


def staff_refused(request):
    # The services' own message (the same msgid) for a request made by a staff account.
    return render(
        request,
        "common/error.html",
        {
            "title": _("My data"),
            "message": _(
                "Staff accounts make requests about their own data to the privacy officer directly."
            ),
        },
        status=403,
    )


class MyDataView(LoginRequiredMixin, TemplateView):
    template_name = "privacy/rights/my_data.html"

    def get(self, request, *args, **kwargs):
        if request.user.is_staff:
            return staff_refused(request)
        response = super().get(request, *args, **kwargs)
        add_never_cache_headers(response)  # every value the member has, decrypted
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["data"] = selectors.my_data(self.request.user, now=clock.now())
        from kirakira.disclosures.selectors import told_rows

        context["disclosures"] = told_rows(self.request.user, now=clock.now())
        from kirakira.breaches.selectors import notice_count

        context["incident_notices"] = notice_count(self.request.user)
        return context
