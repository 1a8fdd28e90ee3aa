from django.contrib import admin


class ViewOnlyAdmin(admin.ModelAdmin):
    """A back-office page that shows records and never adds, edits or deletes them (records
    kept as proof change only through their services)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
