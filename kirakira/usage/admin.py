from django.contrib import admin

from kirakira.privacy.catalog.admin import CatalogMaskingAdminMixin
from kirakira.privacy.rights.models import Scope
from kirakira.privacy.rights.restriction import stopped_q

from .models import UsageRecord


@admin.register(UsageRecord)
class UsageRecordAdmin(CatalogMaskingAdminMixin, admin.ModelAdmin):
    list_display = ("occurred_at", "member", "ip_address", "method", "route", "status_code")
    list_filter = ("method", "status_code")
    date_hierarchy = "occurred_at"
    list_select_related = ("member",)
    show_full_result_count = False

    def get_queryset(self, request):
        # A member who stopped the use of their usage log (or all processing) is left out of this
        # reader (policy C7). The security reader (``accounts.throttles._familiar``) still uses
        # their rows: protecting the account is not a use the stop reaches.
        return super().get_queryset(request).exclude(stopped_q(Scope.USAGE_LOG))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
