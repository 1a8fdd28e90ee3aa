"""The access review's charts, drawn on the server as inline SVG: the back office's
Content-Security-Policy allows no script and no inline style, and the site loads nothing from
elsewhere. Colours and sizes are SVG presentation attributes (not CSS), which the policy does not
govern; every text is escaped. Each chart carries a title for screen readers, and the page shows
the same figures in its tables."""

import calendar
from datetime import date

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

BAR = "#417690"  # the admin's own blue
FLAG = "#ba2121"  # the admin's error red
MUTED = "#999999"
BAND = "#e8f1f5"
INK = "#333333"


def _svg(width: int, height: int, title: str, parts: list[str]) -> SafeString:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="access-review-chart" role="img" width="{}" height="{}" '
        'viewBox="0 0 {} {}" aria-label="{}"><title>{}</title>{}</svg>',
        width,
        height,
        width,
        height,
        title,
        title,
        format_html_join("", "{}", ((part,) for part in parts)),
    )


def _text(x, y, label, anchor="start", size=11, fill=INK) -> str:
    return format_html(
        '<text x="{}" y="{}" font-size="{}" text-anchor="{}" fill="{}" font-family="sans-serif">{}</text>',
        x,
        y,
        size,
        anchor,
        fill,
        label,
    )


def _rect(x, y, w, h, fill, label="") -> str:
    tip = format_html("<title>{}</title>", label) if label else ""
    return format_html(
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">{}</rect>',
        round(x, 1),
        round(y, 1),
        round(max(w, 0), 1),
        round(max(h, 0), 1),
        fill,
        tip,
    )


def _line(x1, y1, x2, y2, stroke, dashed=False) -> str:
    template = (
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1" stroke-dasharray="4 3"></line>'
        if dashed
        else '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1"></line>'
    )
    return format_html(template, round(x1, 1), round(y1, 1), round(x2, 1), round(y2, 1), stroke)


def members_by_staff(review) -> SafeString:
    """One bar per staff member: the distinct members whose data they saw in the month."""
    label_width, bar_width, row = 160, 360, 22
    top = max((entry.members for entry in review.staff), default=0) or 1
    parts = []
    for index, entry in enumerate(review.staff):
        y = 6 + index * row
        width = bar_width * entry.members / top
        colour = FLAG if entry.spike_days or entry.unhandled_members else BAR
        parts.append(_text(label_width - 6, y + 13, entry.login_id, anchor="end"))
        parts.append(_rect(label_width, y + 2, width, row - 6, colour, f"{entry.login_id}: {entry.members}"))
        parts.append(_text(label_width + width + 4, y + 13, str(entry.members)))
    height = 12 + row * max(len(review.staff), 1)
    return _svg(label_width + bar_width + 60, height, _("Members whose data each staff member saw"), parts)


def daily_volume(entry, month: date) -> SafeString:
    """The staff member's distinct members per day; the median (dashed) and three times it (red);
    a day over the red line in red."""
    days = calendar.monthrange(month.year, month.month)[1]
    step, plot_height, left, bottom = 14, 80, 30, 16
    threshold = 3 * entry.median
    top = max([*entry.daily.values(), threshold, 1])
    scale = plot_height / top
    spikes = set(entry.spike_days)
    parts = [_text(left - 4, 10, str(round(top)), anchor="end", size=9, fill=MUTED)]
    for number in range(1, days + 1):
        day = month.replace(day=number)
        x = left + (number - 1) * step
        volume = entry.daily.get(day)
        if volume:
            colour = FLAG if day in spikes else BAR
            parts.append(
                _rect(
                    x + 1,
                    4 + plot_height - volume * scale,
                    step - 2,
                    volume * scale,
                    colour,
                    f"{day:%m-%d}: {volume}",
                )
            )
        if number == 1 or number % 5 == 0:
            parts.append(
                _text(x + step / 2, 4 + plot_height + bottom - 3, str(number), anchor="middle", size=9)
            )
    right = left + days * step
    parts.append(_line(left, 4 + plot_height, right, 4 + plot_height, MUTED))
    if entry.median:
        y = 4 + plot_height - entry.median * scale
        parts.append(_line(left, y, right, y, INK, dashed=True))
        y = 4 + plot_height - threshold * scale
        parts.append(_line(left, y, right, y, FLAG))
    title = _(
        "Members seen per day by %(staff)s; the dashed line is the median, the red line three times it"
    ) % {"staff": entry.login_id}
    return _svg(right + 8, 4 + plot_height + bottom, title, parts)


def by_hour(entry, working) -> SafeString:
    """The staff member's rows per hour of the day; working hours on a pale band."""
    step, plot_height, left, bottom = 14, 60, 30, 16
    top = max(max(entry.by_hour), 1)
    scale = plot_height / top
    parts = []
    start = working.start.hour + working.start.minute / 60
    end = working.end.hour + working.end.minute / 60 + (1 / 60 if working.end.second else 0)
    bands = [(start, end)] if start < end else [(0, end), (start, 24)]
    for first, last in bands:
        parts.append(_rect(left + first * step, 4, (last - first) * step, plot_height, BAND))
    for hour, count in enumerate(entry.by_hour):
        x = left + hour * step
        if count:
            parts.append(
                _rect(
                    x + 1,
                    4 + plot_height - count * scale,
                    step - 2,
                    count * scale,
                    BAR,
                    f"{hour:02d}:00 {count}",
                )
            )
        if hour % 3 == 0:
            parts.append(_text(x, 4 + plot_height + bottom - 3, f"{hour:02d}", size=9))
    parts.append(_text(left - 4, 10, str(top), anchor="end", size=9, fill=MUTED))
    parts.append(_line(left, 4 + plot_height, left + 24 * step, 4 + plot_height, MUTED))
    title = _("Accesses by %(staff)s per hour of the day; working hours on the pale band") % {
        "staff": entry.login_id
    }
    return _svg(left + 24 * step + 8, 4 + plot_height + bottom, title, parts)
