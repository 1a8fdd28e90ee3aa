"""The notices of the breach register: a member's own, and the public notice for those who
cannot be reached (shown to everyone, for at least 30 days)."""

from django.views.generic import TemplateView

from kirakira.privacy.rights.views import MemberOnlyMixin

from . import selectors


class NoticesView(MemberOnlyMixin, TemplateView):
    template_name = "breaches/notices.html"

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "notices": [
                {"notice": notice, **selectors.notice_content(notice.incident)}
                for notice in selectors.notices_for(self.request.user)
            ],
        }


class PublicNoticesView(TemplateView):
    template_name = "breaches/public_notices.html"

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "notices": [
                {"public": public, **selectors.notice_content(public.incident)}
                for public in selectors.public_notices()
            ],
        }
