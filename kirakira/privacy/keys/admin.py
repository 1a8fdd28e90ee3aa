"""The key rotation register in the back office: read-only, for the privacy roles."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kirakira.common.admin_base import ViewOnlyAdmin
from kirakira.common.roles import roles_of
from kirakira.privacy.catalog import catalog
from kirakira.privacy.catalog.admin import CatalogMaskingAdminMixin, shows

from .models import KeyRotation


@admin.register(KeyRotation)
class KeyRotationAdmin(CatalogMaskingAdminMixin, ViewOnlyAdmin):
    """When keys last turned: every rotation, never edited or deleted. Who may open it is the
    catalog's declaration of who started the rotations (``privacy.py``: the privacy roles)."""

    list_display = ("started_at", "kind", "keys", "state", "rows_done", "finished_at", "started_by_label")
    list_filter = ("kind", "state")
    list_select_related = ("started_by",)
    ordering = ("-started_at", "-id")
    date_hierarchy = "started_at"
    fields = (
        "kind",
        "keys",
        "state",
        "started_at",
        "started_by_label",
        "heartbeat_at",
        "finished_at",
        "rows_done",
        "rows_cleared",
        "moved_off",
        "runs",
        "error",
    )
    readonly_fields = fields

    @admin.display(description=_("keys"))
    @shows("from_keys", "to_key")
    def keys(self, obj):
        return _("%(old)s → %(new)s") % {"old": ", ".join(obj.from_keys) or "—", "new": obj.to_key}

    @admin.display(description=_("moved off each key"))
    @shows("per_key")
    def moved_off(self, obj):
        return ", ".join(f"{key}: {count}" for key, count in obj.per_key.items()) or "—"

    @admin.display(description=_("started by"))
    @shows("started_by", "started_by_os_user")
    def started_by_label(self, obj):
        if obj.started_by_id is not None:
            return str(obj.started_by)
        return _("%(user)s (server)") % {"user": obj.started_by_os_user}

    def _sees_the_register(self, request) -> bool:
        entry = catalog.field(KeyRotation, "started_by")
        return any(entry.visibility(role) == "full" for role in roles_of(request.user))

    def has_view_permission(self, request, obj=None):
        return self._sees_the_register(request)

    def has_module_permission(self, request):
        return self._sees_the_register(request)
