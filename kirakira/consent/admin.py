from django.contrib import admin

from kirakira.common.admin_base import ViewOnlyAdmin

from .models import ConsentRecord, Notice


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ("title_ja", "audience", "starts_at", "ends_at")
    list_filter = ("audience",)
    ordering = ("-starts_at",)
    fieldsets = (
        (None, {"fields": ("audience", "starts_at", "ends_at")}),
        ("日本語", {"fields": ("title_ja", "body_ja")}),
        ("English", {"fields": ("title_en", "body_en")}),
        ("한국어", {"fields": ("title_ko", "body_ko")}),
    )


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ViewOnlyAdmin):
    """Proof of cookie choices, read-only: found by the consent ID a visitor reads out."""

    list_display = ("consent_id", "choice", "policy_version", "created_at")
    list_filter = ("choice",)
    search_fields = ("=consent_id",)
    ordering = ("-created_at",)
