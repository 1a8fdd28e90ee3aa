from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kirakira.privacy.catalog.admin import CatalogMaskingAdminMixin

from .models import User
from .normalization import normalize_email, normalize_login_id


def _clean_unique_email(form):
    email = normalize_email(form.cleaned_data.get("email", ""))
    others = User.objects.with_email(email)
    if form.instance.pk:
        others = others.exclude(pk=form.instance.pk)
    if others.exists():
        raise ValidationError(_("This email address is already registered."))
    return email


class StaffUserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("login_id", "name", "email")

    def clean_login_id(self):
        return normalize_login_id(self.cleaned_data.get("login_id", ""))

    clean_email = _clean_unique_email


class StaffUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"

    clean_email = _clean_unique_email


@admin.register(User)
class UserAdmin(CatalogMaskingAdminMixin, DjangoUserAdmin):
    form = StaffUserChangeForm
    add_form = StaffUserCreationForm
    ordering = ("login_id",)
    list_display = ("login_id", "name", "is_staff", "is_active", "email_confirmed_at", "date_joined")
    list_filter = ("is_staff", "is_active", "groups")
    search_fields = ("login_id",)
    fieldsets = (
        (None, {"fields": ("login_id", "password")}),
        (
            _("Personal information"),
            {"fields": ("name", "email", "email_confirmed_at", "pending_email", "language")},
        ),
        (_("Staff and roles"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("login_id", "name", "email", "usable_password", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ("last_login", "date_joined", "email_confirmed_at")
    filter_horizontal = ("groups",)
