"""What a back-office page says it shows, for the access log: a list names its columns, a change
page its fields, a history page its record, and a save the fields its form changed. Which members
the page showed is not said here: the collector sees the rows loaded."""

from django.contrib.admin.utils import flatten_fieldsets

from . import collector
from .services import Action, describe


class AccessLogAdminMixin:
    def _personal_paths(self, names) -> list[str]:
        # Imported here: the catalog's admin mixin is built on this one.
        from kirakira.privacy.catalog.admin import resolve

        fields = []
        for name in names:
            if callable(name):  # a masked display stands for the field it masks
                name = getattr(name, "__name__", "").removeprefix("masked_")
            steps = resolve(self.model, name) if isinstance(name, str) else ()
            if steps and steps[-1].entry is not None:
                last = steps[-1]
                fields.append(f"{last.model._meta.label}.{last.field.name}")
        return fields

    def changelist_view(self, request, extra_context=None):
        describe(
            request,
            action=Action.LIST,
            model=self.model,
            fields=self._personal_paths(self.get_list_display(request)),
        )
        return super().changelist_view(request, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            shown = flatten_fieldsets(self.get_fieldsets(request, obj))
            describe(
                request,
                action=Action.VIEW,
                model=self.model,
                object_id=obj.pk,
                fields=self._personal_paths(shown),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def history_view(self, request, object_id, extra_context=None):
        describe(request, action=Action.HISTORY, model=self.model, object_id=object_id)
        return super().history_view(request, object_id, extra_context)

    def save_model(self, request, obj, form, change):
        collection = collector.current()
        if collection is not None and obj.pk is not None:
            collection.changed_fields[(type(obj), obj.pk)] = sorted(form.changed_data)
        super().save_model(request, obj, form, change)
