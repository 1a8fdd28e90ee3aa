from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kirakira.privacy.catalog.admin import CatalogMaskingAdminMixin

from . import services
from .models import TermsVersion

LANGUAGES = ("ja", "en", "ko")


class PublishForm(forms.ModelForm):
    class Meta:
        model = TermsVersion
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


@admin.register(TermsVersion)
class TermsVersionAdmin(CatalogMaskingAdminMixin, admin.ModelAdmin):
    """Publishing freezes the terms as generated now and announces them; never edited afterwards."""

    list_display = ("number", "effective_on", "is_correction", "published_at", "published_by")
    ordering = ("-number",)
    form = PublishForm
    readonly_fields = ("number", "published_at", "published_by")

    def has_add_permission(self, request):
        return request.user.has_perm("legal.publish_termsversion")

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
        version = services.terms_version_publish(
            effective_on=data["effective_on"],
            is_correction=data["is_correction"],
            reason={lang: data[f"reason_{lang}"] for lang in LANGUAGES},
            summary={lang: data[f"summary_{lang}"] for lang in LANGUAGES},
            actor=request.user,
        )
        obj.pk = version.pk
        obj.number = version.number
        messages.success(
            request,
            _("Version %(number)d of the terms of service is published and announced.")
            % {"number": version.number},
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        user = request.user

        class ValidatingForm(form_class):
            def clean(self):
                cleaned = super().clean()
                try:
                    services.validate_terms_publication(
                        effective_on=cleaned.get("effective_on"),
                        is_correction=cleaned.get("is_correction", False),
                        reason={lang: cleaned.get(f"reason_{lang}", "") for lang in LANGUAGES},
                        summary={lang: cleaned.get(f"summary_{lang}", "") for lang in LANGUAGES},
                        actor=user,
                    )
                except ValidationError as exc:
                    for field, errors in exc.message_dict.items():
                        self.add_error(field if field in self.fields else None, errors)
                return cleaned

        return form_class if obj is not None else ValidatingForm
