from django.http import Http404
from django.utils.translation import get_language
from django.views.generic import TemplateView

from .policy import content, selectors


def _language() -> str:
    language = get_language() or "ja"
    return language if language in ("ja", "en", "ko") else "ja"


class PolicyView(TemplateView):
    """The policy as the software applies it today, generated from the catalog."""

    template_name = "privacy/policy.html"

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            **content.policy_context(),
            "in_force": selectors.in_force(),
            "coming": selectors.coming(),
            "versions": selectors.versions(),
            "language": _language(),
        }


class PolicyVersionView(TemplateView):
    """A published version exactly as it was frozen."""

    template_name = "privacy/policy_version.html"

    def get_context_data(self, number, **kwargs):
        version = next((v for v in selectors.versions() if v.number == number), None)
        if version is None:
            raise Http404
        from kirakira.privacy.models import PolicyVersion

        version = PolicyVersion.objects.get(pk=version.pk)
        language = _language()
        return {
            **super().get_context_data(**kwargs),
            "version": version,
            "body": version.localized("snapshot", language),
            "language": language,
        }


class PolicyChangesView(TemplateView):
    """What changes between the version in force and the announced one."""

    template_name = "privacy/policy_changes.html"

    def get_context_data(self, **kwargs):
        current, upcoming = selectors.in_force(), selectors.coming()
        language = _language()
        if upcoming is None:
            # Within 30 days after a change, show what the latest change was.
            notice = selectors.current_notice()
            if notice is None:
                return {**super().get_context_data(**kwargs), "lines": None}
            from kirakira.privacy.models import PolicyVersion

            upcoming = PolicyVersion.objects.get(pk=notice.version.pk)
            current = PolicyVersion.objects.filter(number__lt=upcoming.number).order_by("-number").first()
        old = current.localized("snapshot", language) if current else ""
        return {
            **super().get_context_data(**kwargs),
            "current": current,
            "upcoming": upcoming,
            "lines": selectors.difference(old, upcoming.localized("snapshot", language)),
            "language": language,
        }
