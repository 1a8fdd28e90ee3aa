from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from kirakira.privacy.policy.selectors import difference

from . import disclosure, selectors, services
from .models import TermsAgreement, TermsVersion


def _language() -> str:
    language = get_language() or "ja"
    return language if language in ("ja", "en", "ko") else "ja"


class CommerceDisclosureView(TemplateView):
    """特定商取引法に基づく表記, generated from the settings and the catalog."""

    template_name = "legal/commerce.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "rows": disclosure.rows()}


class TermsView(TemplateView):
    """The terms in force as published (or, before the first version, as generated now)."""

    template_name = "legal/terms.html"

    def get_context_data(self, **kwargs):
        in_force = selectors.in_force()
        language = _language()
        body = (
            TermsVersion.objects.get(pk=in_force.pk).localized("snapshot", language)
            if in_force
            else services.render_terms_body(language)
        )
        return {
            **super().get_context_data(**kwargs),
            "in_force": in_force,
            "coming": selectors.coming(),
            "versions": selectors.versions(),
            "body": body,
            "language": language,
        }


class TermsVersionView(TemplateView):
    """A published version exactly as it was frozen."""

    template_name = "legal/terms_version.html"

    def get_context_data(self, number, **kwargs):
        version = selectors.version(number)
        if version is None:
            raise Http404
        return {
            **super().get_context_data(**kwargs),
            "version": version,
            "body": version.localized("snapshot", _language()),
        }


class TermsChangesView(TemplateView):
    """What changes between the version in force and the announced one (or, within 30 days of a
    change, what the latest change was)."""

    template_name = "legal/terms_changes.html"

    def get_context_data(self, **kwargs):
        language = _language()
        upcoming = selectors.coming() or selectors.in_force()
        if upcoming is None or (upcoming.number == 1 and not selectors.coming()):
            return {**super().get_context_data(**kwargs), "lines": None}
        upcoming = selectors.version(upcoming.number)
        current = selectors.previous(upcoming)
        old = current.localized("snapshot", language) if current else ""
        return {
            **super().get_context_data(**kwargs),
            "current": current,
            "upcoming": upcoming,
            "lines": difference(old, upcoming.localized("snapshot", language)),
            "language": language,
        }


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("orders:list")


class TermsAgreeView(LoginRequiredMixin, View):
    """Where a member is sent when a new version of the terms applies: read it, agree, go on."""

    def get(self, request):
        return self._page(request)

    def post(self, request):
        try:
            number = int(request.POST.get("version", ""))
        except ValueError:
            number = None
        if request.POST.get("agree") != "yes":
            return self._page(request, error=_("Tick the box to agree to the terms of service."))
        try:
            services.terms_agree(member=request.user, number=number, channel=TermsAgreement.Channel.PAGE)
        except ValidationError as exc:
            return self._page(request, error=" ".join(exc.messages))
        messages.success(request, _("Thank you: you agreed to the terms of service."))
        return HttpResponseRedirect(_next(request))

    def _page(self, request, error=""):
        if request.user.is_staff:
            raise Http404
        # Before the first version exists the text is shown as generated now; agreeing to it
        # publishes it as version 1 (services.terms_agree).
        in_force = selectors.in_force()
        version = selectors.version(in_force.number) if in_force else None
        previous = selectors.agreements(request.user)
        language = _language()
        return render(
            request,
            "legal/terms_agree.html",
            {
                "version": version,
                "body": version.localized("snapshot", language)
                if version
                else services.render_terms_body(language),
                "agreed": version is not None and any(a.version.number == version.number for a in previous),
                "previous": previous[0] if previous else None,
                "next": _next(request),
                "error": error,
                "language": language,
            },
            status=400 if error else 200,
        )
