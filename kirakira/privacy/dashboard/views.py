"""The privacy officer's dashboard page (``/backoffice/dashboard/``), for the privacy roles,
behind the staff gate like every back-office URL. Its charts are inline SVG drawn here, as the
access review's are: nothing is loaded from elsewhere."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from kirakira.common.roles import Role, roles_of
from kirakira.privacy.access_log.review_charts import BAR, FLAG, MUTED, _line, _rect, _svg, _text
from kirakira.privacy.retention.views import forecast_chart

from . import selectors

ROLES = {Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF}


def may_see(user) -> bool:
    return user.is_active and user.is_staff and bool(roles_of(user) & {str(role) for role in ROLES})


def requests_chart(buckets) -> str:
    """One bar per bucket of days left, the overdue one in red."""
    step, plot_height, left, bottom = 84, 110, 36, 18
    top = max(max((bucket.count for bucket in buckets), default=0), 1)
    parts = [_text(left - 6, 12, str(top), anchor="end", size=9, fill=MUTED)]
    for index, bucket in enumerate(buckets):
        x = left + index * step
        height = plot_height * bucket.count / top
        if bucket.count:
            colour = FLAG if index == 0 else BAR
            parts.append(
                _rect(
                    x + 8,
                    6 + plot_height - height,
                    step - 16,
                    height,
                    colour,
                    f"{bucket.label}: {bucket.count}",
                )
            )
            parts.append(
                _text(x + step / 2, 2 + plot_height - height, str(bucket.count), anchor="middle", size=9)
            )
        parts.append(_text(x + step / 2, 6 + plot_height + bottom - 4, bucket.label, anchor="middle", size=9))
    right = left + len(buckets) * step
    parts.append(_line(left, 6 + plot_height, right, 6 + plot_height, MUTED))
    return _svg(
        right + 8, 6 + plot_height + bottom, _("Open rights requests by days left before they are due"), parts
    )


def dashboard_view(request):
    if not may_see(request.user):
        raise PermissionDenied
    board = selectors.dashboard(request.user)
    context = {
        **admin.site.each_context(request),
        "title": _("Privacy officer's dashboard"),
        "board": board,
        "requests_chart": requests_chart(board.requests),
        "forecast_chart": forecast_chart(board.forecast),
    }
    return TemplateResponse(request, "admin/privacy/dashboard/dashboard.html", context)
