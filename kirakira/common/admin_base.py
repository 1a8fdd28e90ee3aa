from django.contrib import admin
from django.db.models.constants import LOOKUP_SEP
from django.template.response import TemplateResponse


def service_form_page(model_admin, request, template: str, title, form) -> TemplateResponse:
    """A back-office page with a form whose errors come from a service: 400 when a POST comes
    back to it (refused), 200 when it is first shown."""
    return TemplateResponse(
        request,
        template,
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "title": title,
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )


class ViewOnlyAdmin(admin.ModelAdmin):
    """A back-office page that shows records and never adds, edits or deletes them (records
    kept as proof change only through their services)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def yen_text(amount, *, signed: bool = False) -> str:
    """An integer amount of yen as the reader writes it (¥12,345 / 12,345円 / 12,345엔), the
    sign before the yen mark when ``signed`` (+¥500, -¥500)."""
    from kirakira.common.templatetags.kirakira import yen

    if amount is None or amount == "":
        return ""
    text = yen(abs(int(amount)))
    if signed or amount < 0:
        return f"{'-' if amount < 0 else '+'}{text}"
    return text


def _value(obj, name: str):
    for attribute in name.split(LOOKUP_SEP):
        if obj is None:
            return None
        obj = getattr(obj, attribute, None)
    return obj


class YenAmountsAdminMixin:
    """Amounts of yen (the fields named ``*_yen``) in the back office as people read them,
    ¥12,345 or 12,345円, in list columns and read-only change page fields, where Django would
    show 12345. (``USE_THOUSAND_SEPARATOR`` would group every number of every page, years and
    identifiers included, so it stays off.)

    Put before ``CatalogMaskingAdminMixin``: it formats what the catalog lets the viewer see in
    full and leaves a masked value or one under correction as the catalog shows it. Each column
    keeps the name of its field (the access log reads it) and sorts as the field."""

    def _is_yen(self, name) -> bool:
        # A masked display (``masked_<field>``) shows the catalog's mask, never an amount.
        return isinstance(name, str) and name.endswith("_yen") and not name.startswith("masked_")

    def _yen_display(self, name: str, inner=None):
        cache = self.__dict__.setdefault("_yen_displays", {})
        key = (name, inner)
        if key not in cache:
            field = self.model._meta.get_field(name.split(LOOKUP_SEP)[0]) if LOOKUP_SEP not in name else None

            def display(obj, _inner=inner, _name=name):
                if _inner is not None:
                    shown = _inner(obj)
                    value = _value(obj, _name)
                    # What the catalog put instead of the value (under correction) stays.
                    if value is None or str(shown) != str(value):
                        return shown
                return yen_text(_value(obj, _name)) or self.get_empty_value_display()

            display.short_description = getattr(inner, "short_description", None) or (
                field.verbose_name if field is not None else name
            )
            display.__name__ = name
            display.admin_order_field = (
                getattr(inner, "admin_order_field", name) if inner is not None else name
            )
            for attribute in ("frozen_path",):  # what the catalog's changelist looks up per page
                if hasattr(inner, attribute):
                    setattr(display, attribute, getattr(inner, attribute))
            cache[key] = display
        return cache[key]

    def get_list_display(self, request):
        columns = []
        for column in super().get_list_display(request):
            if self._is_yen(column):
                column = self._yen_display(column)
            elif callable(column) and self._is_yen(getattr(column, "__name__", None)):
                column = self._yen_display(column.__name__, column)  # a column the catalog wrapped
            columns.append(column)
        return columns

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        editable = self.has_change_permission(request, obj)
        readonly = set(self.readonly_fields)
        result = []
        for title, options in fieldsets:
            fields = [
                self._yen_display(name) if self._is_yen(name) and (name in readonly or not editable) else name
                for name in options.get("fields", ())
            ]
            result.append((title, {**options, "fields": fields}))
        return result
