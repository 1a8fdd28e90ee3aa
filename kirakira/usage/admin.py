from django.contrib import admin

from kirakira.privacy.catalog.admin import CatalogMaskingAdminMixin

from .models import UsageRecord


@admin.register(UsageRecord)
class UsageRecordAdmin(CatalogMaskingAdminMixin, admin.ModelAdmin):
    list_display = ("occurred_at", "member", "ip_address", "method", "route", "status_code")
    list_filter = ("method", "status_code")
    date_hierarchy = "occurred_at"
    list_select_related = ("member",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
