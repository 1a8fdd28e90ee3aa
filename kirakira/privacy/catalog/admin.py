"""The back office shows each personal field as the catalog allows the viewer's roles:
in full (editable where the admin allows), masked (read-only, e.g. ``h****@example.com``),
or not at all. One mixin, so every admin page that shows member data obeys the catalog."""

from django.contrib.admin.utils import flatten_fieldsets

from kirakira.common.roles import roles_of

from .declarations import catalog
from .masking import mask_value
from .vocabulary import Protection


class CatalogMaskingAdminMixin:
    def _masked_display(self, model, field_name, entry):
        cache = self.__dict__.setdefault("_masked_displays", {})
        if field_name not in cache:
            verbose = model._meta.get_field(field_name).verbose_name

            def display(obj, _name=field_name, _mask=entry.mask):
                return mask_value(getattr(obj, _name), _mask)

            display.short_description = verbose
            display.__name__ = f"masked_{field_name}"
            cache[field_name] = display
        return cache[field_name]

    def _shown(self, request, name):
        """The field itself, its masked display, or None to leave it out."""
        if not isinstance(name, str):
            return name
        entry = catalog.field(self.model, name)
        if entry is None or entry.field == "*" or entry.protection == Protection.ONE_WAY:
            return name  # not personal, a whole-record declaration, or a one-way hash (shows nothing)
        levels = {entry.visibility(role) for role in roles_of(request.user)}
        if "full" in levels:
            return name
        if "masked" in levels:
            return self._masked_display(self.model, name, entry)
        return None

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets  # entering new data is not seeing someone's
        result = []
        for title, options in fieldsets:
            fields = [self._shown(request, f) for f in options.get("fields", ())]
            fields = [f for f in fields if f is not None]
            if fields:
                result.append((title, {**options, "fields": fields}))
        return result

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            for field in flatten_fieldsets(self.get_fieldsets(request, obj)):
                if callable(field) and field not in readonly:
                    readonly.append(field)
        return readonly
