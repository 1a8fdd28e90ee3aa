from django.contrib import admin

from .models import Service, SnsPlatform


@admin.register(SnsPlatform)
class SnsPlatformAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "account_id_pattern", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")

    def has_delete_permission(self, request, obj=None):
        return False  # orders refer to platforms; deactivate instead


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name_ja", "price_yen", "photo_link_count", "sort_order", "is_active")
    list_filter = ("is_active", "platforms")
    list_editable = ("sort_order", "is_active")
    filter_horizontal = ("platforms",)
    search_fields = ("name_ja", "name_en", "name_ko")
    fieldsets = (
        (None, {"fields": ("price_yen", "platforms", "photo_link_count", "sort_order", "is_active")}),
        ("日本語", {"fields": ("name_ja", "description_ja")}),
        ("English", {"fields": ("name_en", "description_en")}),
        ("한국어", {"fields": ("name_ko", "description_ko")}),
    )

    def has_delete_permission(self, request, obj=None):
        return False  # orders refer to services; take one off sale instead
