"""The register of provisions required by law in the back office (the privacy roles): record an
authority's request and hand over the file it produces; see what was provided, and the
correction notices owed to recipients."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from kirakira.common.admin_base import ViewOnlyAdmin, service_form_page
from kirakira.common.forms import apply_service_errors
from kirakira.privacy.access_log.services import Action, record
from kirakira.privacy.catalog import Item
from kirakira.privacy.catalog.admin import CatalogMaskingAdminMixin, shows

from . import selectors, services
from .models import CorrectionNotice, DisclosedData, Disclosure


class DisclosureForm(forms.Form):
    recipient = forms.CharField(label=_("Recipient (authority)"), max_length=400)
    legal_basis = forms.CharField(
        label=_("Legal basis"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=_("The law and article under which the data must be provided, as the request cites it."),
    )
    request_reference = forms.CharField(label=_("The authority's reference"), required=False, max_length=200)
    requested_on = forms.DateField(label=_("Requested on"), help_text=_("As 2026/11/30."))
    login_ids = forms.CharField(
        label=_("Members (login IDs)"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 40}),
        help_text=_("One login ID a line."),
    )
    items = forms.MultipleChoiceField(label=_("Items provided"), widget=forms.CheckboxSelectMultiple)
    withheld_until = forms.DateField(
        label=_("Not told to the members until"),
        required=False,
        help_text=_(
            "Only where a law forbids telling them; empty: they see it on their My data page at once."
        ),
    )
    withholding_basis = forms.CharField(
        label=_("Legal basis for not telling them"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [(item, Item(item).label) for item in selectors.providable_items()]


class DisclosedDataInline(admin.TabularInline):
    model = DisclosedData
    fields = ("member", "withheld_until")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Disclosure)
class DisclosureAdmin(CatalogMaskingAdminMixin, ViewOnlyAdmin):
    list_display = ("reference", "recipient", "requested_on", "recorded_at", "withheld_until")
    ordering = ("-recorded_at",)
    fields = (
        "reference",
        "recipient",
        "legal_basis",
        "request_reference",
        "requested_on",
        "items",
        "withheld_until",
        "withholding_basis",
        "file_digest",
        "recorded_at",
        "recorded_by",
    )
    readonly_fields = fields
    inlines = [DisclosedDataInline]
    change_form_template = "admin/disclosures/disclosure/change_form.html"
    change_list_template = "admin/disclosures/disclosure/change_list.html"

    def _may_record(self, request) -> bool:
        return request.user.has_perm("disclosures.record_disclosure")

    def get_urls(self):
        return [
            path(
                "record/", self.admin_site.admin_view(self.record_view), name="disclosures_disclosure_record"
            ),
            path(
                "<uuid:object_id>/file/",
                self.admin_site.admin_view(self.file_view),
                name="disclosures_disclosure_file",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {
            "record_url": reverse("admin:disclosures_disclosure_record")
            if self._may_record(request)
            else None
        }
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {
            "file_url": reverse("admin:disclosures_disclosure_file", args=[object_id])
            if self._may_record(request)
            else None
        }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def record_view(self, request):
        if not self._may_record(request):
            raise PermissionDenied
        form = DisclosureForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                disclosure, _content = services.disclosure_record(
                    actor=request.user,
                    recipient=data["recipient"],
                    legal_basis=data["legal_basis"],
                    request_reference=data["request_reference"],
                    requested_on=data["requested_on"],
                    login_ids=data["login_ids"].split(),
                    items=data["items"],
                    withheld_until=data["withheld_until"],
                    withholding_basis=data["withholding_basis"],
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                self.message_user(
                    request,
                    _("Provision %(reference)s is recorded: download the file to hand over below.")
                    % {"reference": disclosure.reference},
                    messages.SUCCESS,
                )
                return redirect("admin:disclosures_disclosure_change", disclosure.pk)
        return service_form_page(
            self,
            request,
            "admin/disclosures/disclosure/record.html",
            _("Record a provision required by law"),
            form,
        )

    def file_view(self, request, object_id):
        if not self._may_record(request):
            raise PermissionDenied
        disclosure = get_object_or_404(Disclosure, pk=object_id)
        content = services.disclosure_file(disclosure)
        record(
            actor=request.user,
            action=Action.DOWNLOAD,
            request=request,
            model=DisclosedData,
            object_id=disclosure.pk,
            fields=["values"],
            subjects=DisclosedData.objects.filter(disclosure=disclosure).values_list("member_id", flat=True),
            reason=disclosure.legal_basis[:200],
        )
        response = HttpResponse(content, content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="provision-{disclosure.reference}.json"'
        response["Cache-Control"] = "private, no-store"
        return response


@admin.register(CorrectionNotice)
class CorrectionNoticeAdmin(CatalogMaskingAdminMixin, ViewOnlyAdmin):
    """Corrections of data already provided: each is to be told to its recipient."""

    list_display = ("data", "field", "created_at", "is_sent")
    fields = ("data", "member", "request", "record", "record_id", "field", "corrected_value", "created_at")
    readonly_fields = fields
    change_form_template = "admin/disclosures/correctionnotice/change_form.html"

    @admin.display(description=_("sent to the recipient"), boolean=True)
    @shows("id")
    def is_sent(self, obj):
        return hasattr(obj, "sent")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        notice = self.get_object(request, object_id)
        if request.method == "POST" and notice is not None:
            try:
                services.correction_notice_sent(notice=notice, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.WARNING)
            else:
                self.message_user(request, _("The notice is recorded as sent."), messages.SUCCESS)
            return redirect(request.path)
        extra = {
            "letter": selectors.correction_letter(notice) if notice else "",
            "sent": getattr(notice, "sent", None),
        }
        request.method = "GET"
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})
