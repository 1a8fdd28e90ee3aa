from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kirakira.common.admin_base import ViewOnlyAdmin
from kirakira.common.roles import roles_of

from . import access_review_admin  # noqa: F401 - the monthly access review's page
from .audit.permissions import actor_label
from .catalog import catalog
from .catalog.admin import CatalogMaskingAdminMixin, shows
from .keys import admin as keys_admin  # noqa: F401 - the key rotation register
from .models import PermissionChange, PolicyVersion
from .policy.services import policy_version_publish
from .retention import admin as retention_admin  # noqa: F401 - ledger, forecast, holds, separate storage
from .rights import admin as rights_admin  # noqa: F401 - members' rights requests and their answers


class PublishForm(forms.ModelForm):
    class Meta:
        model = PolicyVersion
        fields = [
            "effective_on",
            "is_correction",
            "reason_ja",
            "reason_en",
            "reason_ko",
            "summary_ja",
            "summary_en",
            "summary_ko",
        ]


@admin.register(PolicyVersion)
class PolicyVersionAdmin(CatalogMaskingAdminMixin, admin.ModelAdmin):
    """Publishing freezes the policy as generated now; a version is never edited afterwards."""

    list_display = ("number", "effective_on", "is_correction", "published_at", "published_by")
    ordering = ("-number",)
    form = PublishForm
    readonly_fields = ("number", "published_at", "published_by")

    def has_add_permission(self, request):
        return request.user.has_perm("privacy.publish_policyversion")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        if obj is None:
            return PublishForm.Meta.fields
        return [
            "number",
            "effective_on",
            "is_correction",
            "reason_ja",
            "summary_ja",
            "published_at",
            "published_by",
        ]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            version = policy_version_publish(
                effective_on=data["effective_on"],
                is_correction=data["is_correction"],
                reason={lang: data[f"reason_{lang}"] for lang in ("ja", "en", "ko")},
                summary={lang: data[f"summary_{lang}"] for lang in ("ja", "en", "ko")},
                actor=request.user,
            )
        except ValidationError as exc:
            # Validated again in the service; surface anything it adds as a message.
            messages.error(request, " ".join(exc.messages))
            raise
        obj.pk = version.pk
        obj.number = version.number
        messages.success(
            request, _("Version %(number)d is published and announced.") % {"number": version.number}
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        user = request.user

        class ValidatingForm(form_class):
            def clean(self):
                cleaned = super().clean()
                from .policy import services

                try:
                    services.validate_publication(
                        effective_on=cleaned.get("effective_on"),
                        is_correction=cleaned.get("is_correction", False),
                        reason={lang: cleaned.get(f"reason_{lang}", "") for lang in ("ja", "en", "ko")},
                        summary={lang: cleaned.get(f"summary_{lang}", "") for lang in ("ja", "en", "ko")},
                        actor=user,
                    )
                except ValidationError as exc:
                    for field, errors in exc.message_dict.items():
                        self.add_error(field if field in self.fields else None, errors)
                return cleaned

        return form_class if obj is not None else ValidatingForm


@admin.register(PermissionChange)
class PermissionChangeAdmin(CatalogMaskingAdminMixin, ViewOnlyAdmin):
    """The permission-change log, for the privacy roles: read-only, never edited or deleted.

    Who may open it is the catalog's declaration of the record (``privacy.py``: the privacy
    roles), read from the viewer's roles: Django's permissions would let a superuser in whatever
    their roles."""

    list_display = ("occurred_at", "subject", "change", "changed_by", "ip_address", "request_id")
    list_filter = ("what",)
    search_fields = ("subject__login_id", "actor__login_id", "=request_id")
    list_select_related = ("subject", "actor")
    ordering = ("-occurred_at", "-id")
    date_hierarchy = "occurred_at"
    fields = ("occurred_at", "subject", "change", "changed_by", "ip_address", "request_id")
    readonly_fields = fields

    @admin.display(description=_("change"))
    @shows("what", "role", "old_value", "new_value")
    def change(self, obj):
        return obj.description

    @admin.display(description=_("changed by"))
    @shows("actor", "requested_by", "request_id")
    def changed_by(self, obj):
        return actor_label(obj)

    def _sees_the_log(self, request) -> bool:
        record = catalog.for_model(PermissionChange).record
        return any(record.visibility(role) == "full" for role in roles_of(request.user))

    def has_view_permission(self, request, obj=None):
        return self._sees_the_log(request)

    def has_module_permission(self, request):
        return self._sees_the_log(request)
