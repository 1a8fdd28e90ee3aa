"""The back office's home links the privacy officer's dashboard for those who may open it."""

from django import template

from kirakira.privacy.dashboard.views import may_see

register = template.Library()


@register.filter
def sees_privacy_dashboard(user) -> bool:
    return may_see(user)
