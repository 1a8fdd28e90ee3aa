"""The breach register in the back office (the privacy roles): record an incident, see whom it
affects and its legal clocks, send the members' notices, record the reports filed and download
them filled in."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from kirakira.common import clock
from kirakira.common.admin_base import ViewOnlyAdmin, service_form_page
from kirakira.common.forms import apply_service_errors
from kirakira.common.tasks import enqueue_in_transaction
from kirakira.privacy.catalog import Item
from kirakira.privacy.catalog.admin import CatalogMaskingAdminMixin, shows

from . import clocks as legal_clocks
from . import reports, selectors, services, tasks
from .models import BreachIncident, PublicNotice


class _DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self):
        super().__init__(format="%Y-%m-%dT%H:%M")


class IncidentForm(forms.Form):
    detected_at = forms.DateTimeField(label=_("Detected at"), widget=_DateTimeInput())
    began_at = forms.DateTimeField(
        label=_("Began at"), required=False, widget=_DateTimeInput(), help_text=_("Empty if not known.")
    )
    cause = forms.ChoiceField(label=_("Cause"), choices=BreachIncident.Cause.choices)
    description = forms.CharField(
        label=_("What happened"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text=_("Written for the members: the notice shows it as it is."),
    )
    items = forms.MultipleChoiceField(label=_("Items exposed"), widget=forms.CheckboxSelectMultiple)
    only_stored_copy = forms.BooleanField(
        label=_("Only the stored copy was exposed"),
        required=False,
        help_text=_(
            "A database or backup file, not data the site showed decrypted. Only then can encryption "
            "have protected it."
        ),
    )
    keys_exposed = forms.BooleanField(label=_("Encryption keys may have been exposed too"), required=False)
    scope = forms.ChoiceField(
        label=_("Affected members"), choices=BreachIncident.Scope.choices, widget=forms.RadioSelect
    )
    window_start = forms.DateTimeField(label=_("Window from"), required=False, widget=_DateTimeInput())
    window_end = forms.DateTimeField(label=_("Window to"), required=False, widget=_DateTimeInput())
    login_ids = forms.CharField(
        label=_("Members (login IDs)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 40}),
        help_text=_("For a list of members: one login ID a line."),
    )
    staff_login_id = forms.CharField(
        label=_("Staff account (login ID)"),
        required=False,
        max_length=30,
        help_text=_("For the members whose data one staff account accessed in the window."),
    )
    measures = forms.CharField(
        label=_("What the company does"), widget=forms.Textarea(attrs={"rows": 3, "cols": 80})
    )
    member_advice = forms.CharField(
        label=_("What the members can do"), widget=forms.Textarea(attrs={"rows": 3, "cols": 80})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [(item, Item(item).label) for item in selectors.exposable_items()]


@admin.register(BreachIncident)
class BreachIncidentAdmin(CatalogMaskingAdminMixin, ViewOnlyAdmin):
    list_display = ("reference", "detected_at", "cause", "affected_count", "protected", "recorded_at")
    list_filter = ("cause",)
    ordering = ("-detected_at",)
    fields = (
        "reference",
        "detected_at",
        "began_at",
        "cause",
        "description",
        "items_exposed",
        "only_stored_copy",
        "keys_exposed",
        "protected",
        "scope",
        "window_start",
        "window_end",
        "staff_account",
        "affected_count",
        "measures",
        "member_advice",
        "recorded_at",
        "recorded_by",
    )
    readonly_fields = fields
    change_form_template = "admin/breaches/breachincident/change_form.html"

    @admin.display(description=_("items exposed"))
    @shows("items")
    def items_exposed(self, obj):
        return ", ".join(str(Item(item).label) for item in obj.items)

    change_list_template = "admin/breaches/breachincident/change_list.html"

    def _may_record(self, request) -> bool:
        return request.user.has_perm(services.PERMISSION)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("record/", view(self.record_view), name="breaches_breachincident_record"),
            path("<uuid:object_id>/notify/", view(self.notify_view), name="breaches_breachincident_notify"),
            path("<uuid:object_id>/done/", view(self.done_view), name="breaches_breachincident_done"),
            path(
                "<uuid:object_id>/report/<str:kind>/",
                view(self.report_view),
                name="breaches_breachincident_report",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {
            "record_url": reverse("admin:breaches_breachincident_record")
            if self._may_record(request)
            else None
        }
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        incident = self.get_object(request, object_id)
        extra = {}
        if incident is not None:
            now = clock.now()
            extra = {
                "clocks": [
                    {
                        "clock": running,
                        "state": running.state(now),
                        "report": running.kind in reports.LANGUAGE,
                    }
                    for running in legal_clocks.clocks(incident)
                ],
                "may_record": self._may_record(request),
                "notified": incident.notices.count(),
                "public_notice": PublicNotice.objects.filter(incident=incident).first(),
                "unsent": incident.notices.filter(reachable=True, emailed_at__isnull=True).count(),
            }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def record_view(self, request):
        if not self._may_record(request):
            raise PermissionDenied
        form = IncidentForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                incident = services.incident_record(
                    actor=request.user,
                    detected_at=data["detected_at"],
                    began_at=data["began_at"],
                    description=data["description"],
                    cause=data["cause"],
                    items=data["items"],
                    keys_exposed=data["keys_exposed"],
                    only_stored_copy=data["only_stored_copy"],
                    scope=data["scope"],
                    window_start=data["window_start"],
                    window_end=data["window_end"],
                    login_ids=data["login_ids"].split(),
                    staff_login_id=data["staff_login_id"],
                    measures=data["measures"],
                    member_advice=data["member_advice"],
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                self.message_user(
                    request,
                    _("Incident %(reference)s is recorded: %(count)d members are affected.")
                    % {"reference": incident.reference, "count": incident.affected_count},
                    messages.SUCCESS,
                )
                return redirect("admin:breaches_breachincident_change", incident.pk)
        return service_form_page(
            self,
            request,
            "admin/breaches/breachincident/record.html",
            _("Record a personal data incident"),
            form,
        )

    def notify_view(self, request, object_id):
        if request.method != "POST" or not self._may_record(request):
            raise PermissionDenied
        incident = get_object_or_404(BreachIncident, pk=object_id)
        with transaction.atomic():
            enqueue_in_transaction(
                tasks.send_incident_notices, incident_id=str(incident.pk), actor_id=str(request.user.pk)
            )
        self.message_user(
            request,
            _(
                "The notices are being sent in the background: reload this page to see how many are made. "
                "Members who cannot be reached are told by the public notice."
            ),
            messages.SUCCESS,
        )
        return redirect("admin:breaches_breachincident_change", incident.pk)

    def done_view(self, request, object_id):
        if request.method != "POST" or not self._may_record(request):
            raise PermissionDenied
        incident = get_object_or_404(BreachIncident, pk=object_id)
        try:
            services.clock_done(
                incident=incident,
                kind=request.POST.get("kind", ""),
                actor=request.user,
                note=request.POST.get("note", ""),
            )
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            self.message_user(request, _("Recorded as done."), messages.SUCCESS)
        return redirect("admin:breaches_breachincident_change", incident.pk)

    def report_view(self, request, object_id, kind):
        if not self._may_record(request) or kind not in reports.LANGUAGE:
            raise PermissionDenied
        incident = get_object_or_404(BreachIncident, pk=object_id)
        name, text = reports.report(incident, kind)
        response = HttpResponse(text, content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "private, no-store"
        return response
