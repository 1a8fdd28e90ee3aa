"""The gate's back-office pages, for the privacy roles: publishing the security pledge (the
privacy officer), who accepted which version, and the training records (entered by the privacy
officer). Records are never edited or deleted: a new pledge version or a new training record
takes the place of an old one.

django-otp's own pages (devices and their keys, backup codes) are taken away: those are secrets
of each account, shown to their owner once at enrolment and to nobody else."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from kirakira.common.admin_base import ViewOnlyAdmin
from kirakira.privacy.catalog.admin import CatalogMaskingAdminMixin, shows

from . import services
from .models import (
    LANGUAGES,
    ExitPledge,
    Offboarding,
    OffboardingHandover,
    PledgeAcceptance,
    SecurityPledge,
    TrainingRecord,
)

for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


def _service_errors(form, exc) -> None:
    if isinstance(exc, PermissionDenied):
        form.add_error(None, str(exc))
        return
    for field, errors in exc.message_dict.items():
        if field not in form.errors:
            form.add_error(field if field in form.fields else None, errors)


class PledgeForm(forms.ModelForm):
    class Meta:
        model = SecurityPledge
        fields = ["text_ja", "text_en", "text_ko"]

    def clean(self):
        cleaned = super().clean()
        try:
            services.pledge_check_texts(
                {language: cleaned.get(f"text_{language}", "") for language in LANGUAGES}
            )
        except ValidationError as exc:
            _service_errors(self, exc)
        return cleaned


class PublishedPledgeAdmin(CatalogMaskingAdminMixin, admin.ModelAdmin):
    """Publishing is the add page (the privacy officer); a published version is never changed."""

    list_display = ("number", "published_at", "published_by")
    ordering = ("-number",)

    # Each pledge's admin names its publishing service and the message that confirms it.
    publish = None
    published_message = ""

    def has_add_permission(self, request):
        return request.user.has_perm(services.PUBLISH_PERMISSION)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.form.Meta.fields
        return ["number", "published_at", "published_by", "text_ja", "text_en", "text_ko"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        pledge = type(self).publish(
            texts={language: data[f"text_{language}"] for language in LANGUAGES}, actor=request.user
        )
        obj.pk, obj.number, obj._state.adding = pledge.pk, pledge.number, False
        messages.success(request, self.published_message % {"number": pledge.number})


@admin.register(SecurityPledge)
class SecurityPledgeAdmin(PublishedPledgeAdmin):
    form = PledgeForm
    list_display = ("number", "published_at", "published_by", "accepted_by")

    @admin.display(description=_("accepted by"))
    @shows()
    def accepted_by(self, obj):
        return obj.acceptances.count()

    publish = staticmethod(services.pledge_publish)
    published_message = _(
        "Version %(number)d of the security pledge is published: every staff member accepts it before "
        "seeing personal data again."
    )


@admin.register(PledgeAcceptance)
class PledgeAcceptanceAdmin(CatalogMaskingAdminMixin, ViewOnlyAdmin):
    list_display = ("accepted_at", "staff", "pledge")
    list_filter = ("pledge",)
    list_select_related = ("staff", "pledge")
    ordering = ("-accepted_at",)
    fields = ("accepted_at", "staff", "pledge")


class TrainingRecordForm(forms.ModelForm):
    class Meta:
        model = TrainingRecord
        fields = ["staff", "course", "completed_on"]

    def clean(self):
        cleaned = super().clean()
        try:
            services.training_check(
                staff=cleaned.get("staff"),
                course=cleaned.get("course", ""),
                completed_on=cleaned.get("completed_on"),
            )
        except ValidationError as exc:
            _service_errors(self, exc)
        return cleaned


@admin.register(TrainingRecord)
class TrainingRecordAdmin(CatalogMaskingAdminMixin, admin.ModelAdmin):
    """Entered by the privacy officer; shown to the privacy roles; never changed or deleted."""

    form = TrainingRecordForm
    list_display = ("staff", "course", "completed_on", "valid_until", "entered_by", "entered_at")
    list_select_related = ("staff", "entered_by")
    list_filter = ("completed_on",)
    search_fields = ("staff__login_id",)
    ordering = ("-completed_on", "-entered_at")

    @admin.display(description=_("counts until"))
    @shows("completed_on")
    def valid_until(self, obj):
        return obj.valid_until

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        if obj is None:
            return TrainingRecordForm.Meta.fields
        return ["staff", "course", "completed_on", "valid_until", "entered_by", "entered_at"]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        record = services.training_record_add(
            staff=data["staff"], course=data["course"], completed_on=data["completed_on"], actor=request.user
        )
        obj.pk, obj._state.adding = record.pk, False


class ExitPledgeForm(PledgeForm):
    class Meta:
        model = ExitPledge
        fields = ["text_ja", "text_en", "text_ko"]


@admin.register(ExitPledge)
class ExitPledgeAdmin(PublishedPledgeAdmin):
    """The exit pledge leaving staff sign (continuing confidentiality)."""

    form = ExitPledgeForm

    publish = staticmethod(services.exit_pledge_publish)
    published_message = _(
        "Version %(number)d of the exit pledge is published: leaving staff sign it from now on."
    )


class HandoverInline(admin.TabularInline):
    model = OffboardingHandover
    fields = ("kind", "reference", "to_staff")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Offboarding)
class OffboardingAdmin(CatalogMaskingAdminMixin, ViewOnlyAdmin):
    """Who left, when, what they signed and to whom their work went: written by the offboarding
    page on a staff account, never changed or deleted."""

    list_display = ("completed_at", "leaver", "completed_by", "exit_pledge", "exit_pledge_signed_on")
    list_select_related = ("leaver", "completed_by", "exit_pledge")
    ordering = ("-completed_at",)
    fields = ("leaver", "completed_at", "completed_by", "exit_pledge", "exit_pledge_signed_on")
    inlines = [HandoverInline]
