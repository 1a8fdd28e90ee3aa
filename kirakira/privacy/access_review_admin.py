"""The monthly review of the staff access log in the back office (policy C10): the log's one
back-office page, for the privacy roles. Month picker, a table per staff member, the flags of
``kirakira.privacy.access_log.review``, charts drawn on the server, a CSV, and the month's
"reviewed" mark in its two parts (``review_services``).

Who may open it: the permission ``privacy.view_staffaccessrecord`` (granted to roles only in
``kirakira.common.roles``) and a role the catalog shows the log to in full, so that superuser
status alone opens nothing. What it shows is itself an access: the page and the CSV each leave
one access-log row naming the staff members and the members whose records they list (the
figures are read as plain values, so the log's own watcher sees nothing to record).
"""

import csv
import io
from collections import defaultdict

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kirakira.common.admin_base import ViewOnlyAdmin
from kirakira.common.roles import declaration, roles_of

from .access_log import review, review_charts, review_services
from .access_log.services import Action, record
from .catalog import catalog
from .catalog.admin import CatalogMaskingAdminMixin
from .models import AccessReview, StaffAccessRecord

PAGE_LIMIT = 200  # rows per list on the page; the CSV has them all
WHOLE_RECORD = "privacy.StaffAccessRecord.*"


class MonthForm(forms.Form):
    month = forms.CharField(label=gettext_lazy("Month"), required=False)

    def clean_month(self):
        value = self.cleaned_data["month"]
        if not value:
            return review.previous_month()
        month = review.parse_month(value)
        if month is None:
            raise ValidationError(gettext_lazy("Choose a month as year-month, for example 2026-04."))
        return month


class MarkForm(forms.Form):
    month = forms.CharField(widget=forms.HiddenInput)
    part = forms.ChoiceField(choices=AccessReview.Part.choices, widget=forms.HiddenInput)
    note = forms.CharField(
        label=gettext_lazy("Note on the review"),
        required=False,
        max_length=review_services.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=gettext_lazy("What you checked, and anything you asked a staff member to explain."),
    )

    def clean_month(self):
        month = review.parse_month(self.cleaned_data["month"])
        if month is None:
            raise ValidationError(gettext_lazy("Choose a month as year-month, for example 2026-04."))
        return month


def _model_name(label: str) -> str:
    try:
        return str(apps.get_model(label)._meta.verbose_name)
    except (LookupError, ValueError):
        return label


def _field_names(fields) -> str:
    names = []
    for name in fields:
        label, _sep, field_name = name.rpartition(".")
        try:
            model = apps.get_model(label)
            names.append(
                str(model._meta.get_field(field_name).verbose_name)
                if field_name != "*"
                else str(model._meta.verbose_name)
            )
        except (LookupError, ValueError, FieldDoesNotExist):  # removed since the row was written
            names.append(name)
    return ", ".join(dict.fromkeys(names))


def _role_labels(codes) -> str:
    labels = []
    for code in sorted(code for code in codes if code):
        try:
            labels.append(str(declaration(code).label))
        except KeyError:  # a role removed since
            labels.append(code)
    return ", ".join(labels)


def _cell(value):
    """A spreadsheet never runs a cell as a formula: text that would start one (a reason typed
    by staff) is quoted."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class _SafeWriter:
    def __init__(self, buffer):
        self._writer = csv.writer(buffer)

    def writerow(self, values):
        self._writer.writerow([_cell(value) for value in values])


@admin.register(StaffAccessRecord)
class StaffAccessReviewAdmin(CatalogMaskingAdminMixin, ViewOnlyAdmin):
    list_display = ("occurred_at",)  # unused: the page is the review below

    def _sees_the_log(self, request) -> bool:
        entry = catalog.for_model(StaffAccessRecord).record
        return request.user.has_perm("privacy.view_staffaccessrecord") and any(
            entry.visibility(role) == "full" for role in roles_of(request.user)
        )

    def has_view_permission(self, request, obj=None):
        return self._sees_the_log(request)

    def has_module_permission(self, request):
        return self._sees_the_log(request)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("", self.admin_site.admin_view(self.review_view), name="{}_{}_changelist".format(*info)),
            # Every back-office model answers its "add" URL; nobody adds a record by hand (403).
            path("add/", self.admin_site.admin_view(self.add_view), name="{}_{}_add".format(*info)),
        ]

    # --- the page ------------------------------------------------------------------------------
    def review_view(self, request):
        if not self._sees_the_log(request):
            raise PermissionDenied
        mark_form = None
        if request.method == "POST":
            mark_form = MarkForm(request.POST)
            response = self._mark(request, mark_form)
            if response is not None:
                return response
            month = mark_form.cleaned_data.get("month") or review.previous_month()
            month_form = MonthForm(initial={"month": f"{month:%Y-%m}"})
        else:
            month_form = MonthForm(request.GET)
            month = month_form.cleaned_data["month"] if month_form.is_valid() else review.previous_month()
        month_review = review.month_review(month=month)
        if request.method == "GET" and request.GET.get("download") == "csv" and month_form.is_valid():
            return self._csv(request, month_review)
        return self._page(request, month_review, month_form, mark_form)

    def _url(self, month=None, **params) -> str:
        url = reverse(f"{self.admin_site.name}:privacy_staffaccessrecord_changelist")
        query = "&".join(f"{key}={value}" for key, value in {"month": f"{month:%Y-%m}", **params}.items())
        return f"{url}?{query}" if month else url

    def _mark(self, request, form):
        if not form.is_valid():
            return None
        try:
            review_services.access_review_mark(
                month=form.cleaned_data["month"],
                part=form.cleaned_data["part"],
                actor=request.user,
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field_name, errors in exc.message_dict.items():
                    form.add_error(field_name if field_name in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
            return None
        self.message_user(request, _("The month is marked as reviewed."), messages.SUCCESS)
        return redirect(self._url(form.cleaned_data["month"]))

    def _parts(self, request, month_review, mark_form):
        """Each part of the month's mark: its mark, or the form for a user who may make it, or
        why they may not."""
        done = review.marks(month=month_review.month)
        coverage = {
            part: review.PartCoverage(
                staff=month_review.part_staff(part),
                rows=month_review.part_rows(part),
            )
            for part in AccessReview.Part.values
        }
        parts = []
        for part, label in AccessReview.Part.choices:
            mark = done.get(part)
            # Every key the template reads, present: a failed lookup is logged with the dict.
            entry = {"part": part, "label": label, "mark": mark, "rows": coverage[part].rows}
            entry.update(form=None, why_not="", late_rows=0)
            if mark is not None:
                entry["late_rows"] = max(coverage[part].rows - mark["record_count"], 0)
            else:
                problem = review_services.why_not_mark(
                    actor=request.user, month=month_review.month, part=part, coverage=coverage
                )
                if problem is None:
                    bound = mark_form is not None and mark_form.data.get("part") == part
                    entry["form"] = (
                        mark_form
                        if bound
                        else MarkForm(initial={"month": f"{month_review.month:%Y-%m}", "part": part})
                    )
                else:
                    entry["why_not"] = problem
            parts.append(entry)
        return parts

    def _page(self, request, month_review, month_form, mark_form):
        shown = {
            "reveals_and_downloads": month_review.reveals_and_downloads[:PAGE_LIMIT],
            "outside_hours": month_review.outside_hours[:PAGE_LIMIT],
            "unhandled": month_review.unhandled[:PAGE_LIMIT],
        }
        staff = {entry.staff_id: entry for entry in month_review.staff}
        named = review.subjects_of_rows(
            {row.seq for row in shown["reveals_and_downloads"]} | {row.seq for row in shown["outside_hours"]}
        )
        subjects = set(staff) | {item.subject_id for item in shown["unhandled"]}
        subjects = subjects.union(*named.values()) if named else subjects
        self._record(request, month_review, Action.VIEW, subjects)

        def login(staff_id):
            return staff[staff_id].login_id if staff_id in staff else ""

        rows = {
            key: [
                {
                    "row": row,
                    "staff": login(row.staff_id),
                    "model": _model_name(row.model),
                    "fields": _field_names(row.fields),
                }
                for row in items
            ]
            for key, items in shown.items()
            if key != "unhandled"
        }
        month = month_review.month
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Monthly access review"),
            "subtitle": None,  # read by the admin's base template; a failed lookup logs the context
            "review": month_review,
            "month": month,
            "month_value": f"{month:%Y-%m}",
            "month_form": month_form,
            "previous_url": self._url(review.previous_month(month)),
            "next_url": self._url(review.next_month(month)),
            "csv_url": self._url(month, download="csv"),
            "actions": [str(Action(action).label) for action in review.SEEING_ACTIONS],
            "staff": [
                {
                    "entry": entry,
                    "roles": _role_labels(entry.roles),
                    "part_label": AccessReview.Part(entry.part).label,
                }
                for entry in month_review.staff
            ],
            "members_chart": review_charts.members_by_staff(month_review),
            "staff_charts": [
                {
                    "entry": entry,
                    "daily": review_charts.daily_volume(entry, month),
                    "hours": review_charts.by_hour(entry, month_review.working),
                }
                for entry in month_review.staff
            ],
            "reveals_and_downloads": rows["reveals_and_downloads"],
            "outside_hours": rows["outside_hours"],
            "spikes": [{"spike": spike, "staff": login(spike.staff_id)} for spike in month_review.spikes],
            "unhandled": [
                {"item": item, "staff": login(item.staff_id), "roles": _role_labels(item.roles.split(","))}
                for item in shown["unhandled"]
            ],
            "more": {key: max(len(getattr(month_review, key)) - PAGE_LIMIT, 0) for key in shown},
            "parts": self._parts(request, month_review, mark_form),
            "recent": [
                {**item, "url": self._url(item["month"])}
                for item in review.recent_marks(before=review.previous_month())
            ],
            "part_count": len(AccessReview.Part.values),
        }
        return TemplateResponse(request, "admin/privacy/staffaccessrecord/review.html", context)

    def _record(self, request, month_review, action, subjects) -> None:
        """The page or the CSV as an access: to the staff members reviewed and to the members
        whose records it lists (never the viewer: one's own data is not an access)."""
        subjects = {subject for subject in subjects if subject is not None and subject != request.user.pk}
        if subjects:
            record(
                actor=request.user,
                action=action,
                request=request,
                model=StaffAccessRecord,
                fields=[WHOLE_RECORD],
                subjects=subjects,
            )

    # --- the CSV -------------------------------------------------------------------------------
    def _csv(self, request, month_review):
        staff = {entry.staff_id: entry for entry in month_review.staff}
        seqs = [row.seq for row in month_review.reveals_and_downloads + month_review.outside_hours]
        named: dict = defaultdict(set)
        for start in range(0, len(seqs), 500):  # under every database's limit of parameters
            for seq, subjects in review.subjects_of_rows(seqs[start : start + 500]).items():
                named[seq] |= subjects
        subjects = set(staff) | {item.subject_id for item in month_review.unhandled}
        subjects = subjects.union(*named.values()) if named else subjects
        self._record(request, month_review, Action.EXPORT, subjects)

        buffer = io.StringIO()
        buffer.write("\ufeff")  # Excel reads UTF-8 only with a byte order mark
        writer = _SafeWriter(buffer)
        actions = review.SEEING_ACTIONS
        writer.writerow(
            [
                _("Finding"),
                _("Staff member"),
                _("Name"),
                _("Roles"),
                _("When"),
                _("Action"),
                _("Kind of record"),
                _("Record"),
                _("Members"),
                *[str(Action(action).label) for action in actions],
                _("Refusals"),
                _("Fields"),
                _("Reason"),
                _("Detail"),
            ]
        )
        blanks = [""] * len(actions)

        def who(staff_id):
            entry = staff.get(staff_id)
            return [entry.login_id, entry.name] if entry else ["", ""]

        for entry in month_review.staff:
            detail = _(
                "outside working hours: %(outside)d; days over 3× the median: %(spikes)d; "
                "members with no order or consultation to handle: %(unhandled)d; median per day: %(median)s"
            ) % {
                "outside": entry.outside_hours,
                "spikes": len(entry.spike_days),
                "unhandled": entry.unhandled_members,
                "median": f"{entry.median:g}",
            }
            writer.writerow(
                [
                    _("Summary"),
                    *who(entry.staff_id),
                    _role_labels(entry.roles),
                    f"{month_review.month:%Y-%m}",
                    "",
                    "",
                    "",
                    entry.members,
                    *[entry.by_action.get(action, 0) for action in actions],
                    entry.refusals,
                    "",
                    "",
                    detail,
                ]
            )
        findings = [(_("Reveal or download"), row) for row in month_review.reveals_and_downloads]
        findings += [(_("Outside working hours"), row) for row in month_review.outside_hours]
        for finding, row in findings:
            writer.writerow(
                [
                    finding,
                    *who(row.staff_id),
                    _role_labels(row.roles.split(",")),
                    f"{row.occurred_at:%Y-%m-%d %H:%M}",
                    row.action_label,
                    _model_name(row.model),
                    row.object_id,
                    row.people,
                    *blanks,
                    "",
                    _field_names(row.fields),
                    row.reason,
                    f"#{row.seq}",
                ]
            )
        for spike in month_review.spikes:
            writer.writerow(
                [
                    _("Over 3× the median"),
                    *who(spike.staff_id),
                    _role_labels(staff[spike.staff_id].roles) if spike.staff_id in staff else "",
                    f"{spike.day:%Y-%m-%d}",
                    "",
                    "",
                    "",
                    spike.members,
                    *blanks,
                    "",
                    "",
                    "",
                    _("median per day: %(median)s") % {"median": f"{spike.median:g}"},
                ]
            )
        for item in month_review.unhandled:
            writer.writerow(
                [
                    _("No order or consultation to handle"),
                    *who(item.staff_id),
                    _role_labels(item.roles.split(",")),
                    f"{item.first:%Y-%m-%d %H:%M}",
                    "",
                    _("member"),
                    str(item.subject_id),
                    1,
                    *blanks,
                    "",
                    "",
                    "",
                    _("%(rows)d rows, the last %(last)s")
                    % {"rows": item.rows, "last": f"{item.last:%Y-%m-%d %H:%M}"},
                ]
            )
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="access-review-{month_review.month:%Y-%m}.csv"'
        )
        return response
