"""The retention back office (policy C4): the disposal ledger with its certificates and the
forecast of what falls due, legal holds, and separate storage.

Who reaches what is the roles' permissions (``kirakira.common.roles``): the privacy roles see
the ledger, the forecast and the holds; only the privacy officer places and releases holds and
reaches separate storage, where a record's content opens only for one of the policy's reasons
(``services.ReadingReason``), each reading in the staff access log. Nobody adds, changes or
deletes a run, a count, a hold (a hold is released, and the sweep disposes of it two years
after it ended) or a retained record here.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from kirakira.common import clock
from kirakira.common.admin_base import ViewOnlyAdmin
from kirakira.privacy.catalog.admin import CatalogMaskingAdminMixin, shows

from . import selectors, services, views
from .models import DisposalRun, LegalHold, RetainedRecord

# --- the disposal ledger ----------------------------------------------------------------------


@admin.register(DisposalRun)
class DisposalRunAdmin(CatalogMaskingAdminMixin, ViewOnlyAdmin):
    list_display = ("started_at", "trigger", "started_by", "status", "total")
    list_filter = ("trigger", "status")
    list_select_related = ("started_by",)
    ordering = ("-started_at",)
    fields = ("id", "started_at", "finished_at", "trigger", "started_by", "status", "error")
    readonly_fields = fields

    def get_queryset(self, request):
        return selectors.runs_with_totals(super().get_queryset(request))

    @admin.display(description=_("records disposed of"), ordering="disposed")
    @shows()
    def total(self, obj):
        return obj.disposed

    def _url(self, name: str, *args) -> str:
        return reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_{name}", args=args
        )

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "forecast/",
                self.admin_site.admin_view(self.forecast_view),
                name="{}_{}_forecast".format(*info),
            ),
            path(
                "<uuid:object_id>/certificate/",
                self.admin_site.admin_view(self.certificate_view),
                name="{}_{}_certificate".format(*info),
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "forecast_url": self._url("forecast")}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = self.get_object(request, object_id)
        extra_context = dict(extra_context or {})
        if run is not None and self.has_view_permission(request, run):
            extra_context["counts"] = selectors.run_counts(run=run)
            extra_context["certificate_url"] = self._url("certificate", run.pk)
        return super().change_view(request, object_id, form_url, extra_context)

    def forecast_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return views.forecast_page(request, model_admin=self)

    def certificate_view(self, request, object_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = get_object_or_404(DisposalRun, pk=object_id)
        return views.certificate_response(request, run=run)


# --- legal holds ------------------------------------------------------------------------------


class LegalHoldForm(forms.ModelForm):
    member = forms.CharField(
        label=capfirst(_("member")),
        max_length=100,
        help_text=_(
            "The member's login ID; for a member who has withdrawn, the former member's ID shown on "
            "their records in separate storage."
        ),
    )

    class Meta:
        model = LegalHold
        fields = ["reason", "reference", "ends_at"]

    def clean(self):
        cleaned = super().clean()
        try:
            services.legal_hold_validate(
                member=cleaned.get("member", ""),
                reason=cleaned.get("reason", ""),
                reference=cleaned.get("reference", ""),
                ends_at=cleaned.get("ends_at"),
            )
        except ValidationError as exc:
            for field_name, errors in exc.message_dict.items():
                if field_name in self.fields and field_name not in self.errors:
                    self.add_error(field_name, errors)
                elif field_name not in self.fields:
                    self.add_error(None, errors)
        return cleaned


@admin.register(LegalHold)
class LegalHoldAdmin(CatalogMaskingAdminMixin, ViewOnlyAdmin):
    form = LegalHoldForm
    list_display = ("reference", "member", "starts_at", "ends_at", "state", "placed_by")
    list_select_related = ("placed_by",)
    search_fields = ("reference",)
    ordering = ("-starts_at",)
    actions = ["release_holds"]
    add_fields = ("member", "reason", "reference", "ends_at")
    view_fields = (
        "member",
        "subject_id",
        "state",
        "reason",
        "reference",
        "starts_at",
        "ends_at",
        "placed_by",
        "released_at",
        "released_by",
    )
    readonly_fields = view_fields

    def has_add_permission(self, request):
        return request.user.has_perm(services.HOLD_PERMISSION)

    def has_place_legal_hold_permission(self, request):
        return request.user.has_perm(services.HOLD_PERMISSION)

    def get_queryset(self, request):
        return selectors.holds_with_members(super().get_queryset(request))

    def get_fields(self, request, obj=None):
        return self.add_fields if obj is None else self.view_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else super().get_readonly_fields(request, obj)

    @admin.display(description=_("member"))
    @shows("subject_id")
    def member(self, obj):
        login_id = getattr(obj, "member_login_id", None)
        if login_id:
            return login_id
        return _("former member %(reference)s") % {"reference": views.subject_reference(obj.subject_id)}

    @admin.display(description=_("state"))
    @shows("released_at", "ends_at", "starts_at")
    def state(self, obj):
        now = clock.now()
        if obj.released_at is not None:
            return _("released")
        if obj.ends_at is not None and obj.ends_at <= now:
            return _("ended")
        if obj.starts_at > now:
            return _("not yet in force")
        return _("in force")

    def save_model(self, request, obj, form, change):
        # The service makes the hold (the form only checked it); the admin's own steps after
        # this (the history entry, the redirect) use the hold it made.
        hold = services.legal_hold_place(
            member=form.cleaned_data["member"],
            reason=form.cleaned_data["reason"],
            reference=form.cleaned_data["reference"],
            ends_at=form.cleaned_data.get("ends_at"),
            actor=request.user,
        )
        for field in LegalHold._meta.concrete_fields:
            setattr(obj, field.attname, getattr(hold, field.attname))
        obj._state.adding = False

    @admin.action(description=_("Release the selected holds"), permissions=["place_legal_hold"])
    def release_holds(self, request, queryset):
        released = sum(
            services.legal_hold_release(hold_id=pk, actor=request.user)
            for pk in queryset.values_list("pk", flat=True)
        )
        skipped = queryset.count() - released
        if released:
            self.message_user(
                request,
                ngettext("%(count)d hold is released.", "%(count)d holds are released.", released)
                % {"count": released},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d hold had already ended or been released.",
                    "%(count)d holds had already ended or been released.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )


# --- separate storage -------------------------------------------------------------------------


class _ChoicesFilter(admin.SimpleListFilter):
    field_name = ""

    def lookups(self, request, model_admin):
        values = (
            RetainedRecord.objects.order_by(self.field_name)
            .values_list(self.field_name, flat=True)
            .distinct()
        )
        return [(value, self.label(value)) for value in values]

    def label(self, value):
        return value

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(**{self.field_name: value}) if value else queryset


@shows("source")
class KindFilter(_ChoicesFilter):
    title = _("kind of record")
    parameter_name = "source"
    field_name = "source"

    def label(self, value):
        return selectors.kind_name(value)


@shows("rule")
class RuleFilter(_ChoicesFilter):
    title = _("retention rule")
    parameter_name = "rule"
    field_name = "rule"

    def label(self, value):
        return selectors.rule_label(value)


@admin.register(RetainedRecord)
class RetainedRecordAdmin(CatalogMaskingAdminMixin, ViewOnlyAdmin):
    """Separate storage, for the privacy officer alone. The list and a record's page show when
    it was kept and until when, never its content; the content opens on a page of its own, with
    a reason (``views.retained_read_page``)."""

    list_display = ("kind", "rule_name", "clock_started_at", "dispose_after", "moved_at", "former_member")
    list_filter = (KindFilter, RuleFilter)
    ordering = ("dispose_after",)
    fields = (
        "kind",
        "rule_name",
        "source_id",
        "former_member_id",
        "clock_started_at",
        "dispose_after",
        "moved_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        # The content is never loaded for a list or a record's page: only its reading decrypts it.
        return super().get_queryset(request).defer("data")

    @admin.display(description=_("kind of record"), ordering="source")
    @shows("source")
    def kind(self, obj):
        return selectors.kind_name(obj.source)

    @admin.display(description=_("retention rule"), ordering="rule")
    @shows("rule")
    def rule_name(self, obj):
        return selectors.rule_label(obj.rule)

    @admin.display(description=_("former member"))
    @shows("subject_id")
    def former_member(self, obj):
        return views.subject_reference(obj.subject_id)

    @admin.display(description=_("former member's ID"))
    @shows("subject_id")
    def former_member_id(self, obj):
        return str(obj.subject_id)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<uuid:object_id>/read/",
                self.admin_site.admin_view(self.read_view),
                name="{}_{}_read".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        retained = self.get_object(request, object_id)
        extra_context = dict(extra_context or {})
        if retained is not None and self.has_view_permission(request, retained):
            info = self.opts.app_label, self.opts.model_name
            extra_context["read_url"] = reverse(
                f"{self.admin_site.name}:{info[0]}_{info[1]}_read", args=[retained.pk]
            )
            extra_context["is_membership"] = retained.source == "accounts.User"
            extra_context["matches"] = views.match_lines(
                selectors.registration_matches(retained=retained), admin_site_name=self.admin_site.name
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def read_view(self, request, object_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        retained = get_object_or_404(RetainedRecord.objects.defer("data"), pk=object_id)
        return views.retained_read_page(request, model_admin=self, retained=retained)
