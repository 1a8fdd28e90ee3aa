"""The back office shows each personal field as the catalog allows the viewer's roles: in full
(editable where the admin allows), masked (read-only, e.g. ``h****@example.com``), or not at all.
One mixin, so every admin page that shows member data obeys the catalog.

Threat model: a member of staff who learns more than their roles allow, either from what a page
shows (change page fields, changelist columns) or bit by bit from what the changelist answers to
its query string — a filter (``?last_login__gte=2020-01-01``), a search (``?q=``), a sort
(``?o=``), a date drill-down — none of which shows the value, all of which tell about it. So:

- a field is shown in full, masked (a read-only display of the mask, never sortable) or not at
  all, as the viewer's best role sees it;
- a field is filtered, searched, sorted or drilled into only when the viewer sees it in full and
  it is stored in plain (an encrypted column cannot be compared, only its ciphertext);
- a lookup through relations (``order__member__email``) is judged field by field, each by its
  own model's catalog entry, and a reverse relation by the foreign key that makes it;
- a column computed by code (an admin or model method) is shown only when it names, with
  :func:`shows`, the fields it reads, and the viewer sees all of them in full.

Superusers get nothing from being superusers here: what anyone sees follows their roles.
``admin_checks`` holds every registered admin to the same rules when the project starts.

A field under correction (policy C7, ``kirakira.privacy.rights.freeze``) is shown to nobody:
its changelist cell and its change page field say "under correction" instead of the value, and
the change page does not let it be edited. The page's rows are looked up in one query per
model, whatever the number of rows.
"""

import functools
import inspect
from dataclasses import dataclass

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.utils import display_for_field, flatten_fieldsets
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist
from django.db.models import F, ForeignObjectRel
from django.db.models.constants import LOOKUP_SEP
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from kirakira.common.roles import roles_of
from kirakira.privacy.access_log.admin import AccessLogAdminMixin
from kirakira.privacy.rights import freeze

from .declarations import PersonalField, catalog
from .masking import HIDDEN, mask_value
from .vocabulary import Protection

FULL, MASKED, NONE = "full", "masked", "none"
_RANK = {NONE: 0, MASKED: 1, FULL: 2}


def shows(*paths: str):
    """Names the fields a computed column reads, as lookup paths from the admin's model
    (``@shows("phone")``, ``@shows("member__email")``); ``@shows()`` says it reads no personal
    data. Decorates an admin method, a model method or property, or a ``SimpleListFilter``."""

    def decorate(target):
        (target.fget if isinstance(target, property) else target).catalog_fields = tuple(paths)
        return target

    return decorate


@dataclass(frozen=True)
class Step:
    """One field on a lookup path, with what the catalog says about it (``None``: not personal)."""

    model: type
    field: object
    entry: PersonalField | None


def _entry(model, field) -> PersonalField | None:
    if isinstance(field, ForeignObjectRel):
        # A reverse relation tells what the rows pointing here hold: judge the foreign key on them.
        return catalog.field(field.field.model, field.field.name)
    return catalog.field(model, field.name)


def resolve(model, path: str) -> tuple[Step, ...]:
    """The fields ``path`` goes through, from ``model``; empty when it does not start with a
    field. What follows the last field (``__gte``, ``__year``, ``__icontains``) is a lookup or
    a transform on it."""
    steps = []
    for part in path.split(LOOKUP_SEP):
        opts = model._meta
        try:
            field = opts.pk if part == "pk" else opts.get_field(part)
        except FieldDoesNotExist:
            break
        steps.append(Step(model, field, _entry(model, field)))
        if not getattr(field, "path_infos", None):
            break
        model = field.path_infos[-1].to_opts.model
    return tuple(steps)


def level(entry: PersonalField | None, roles) -> str:
    """The best of ``FULL``, ``MASKED`` or ``NONE`` that any of the roles gets."""
    if entry is None:
        return FULL
    return max((entry.visibility(str(role)) for role in roles), key=_RANK.__getitem__, default=NONE)


def seen(steps: tuple[Step, ...], roles) -> str:
    """How the roles see the value at the end of the path: a link they may not follow in full
    hides what is behind it."""
    *links, last = steps
    if any(level(step.entry, roles) != FULL for step in links):
        return NONE
    return level(last.entry, roles)


def queryable(steps: tuple[Step, ...], roles) -> bool:
    """Whether the roles may filter, search, sort or drill down on the path."""
    return all(
        step.entry is None
        or (level(step.entry, roles) == FULL and step.entry.protection != Protection.ENCRYPTED)
        for step in steps
    )


def expression_paths(expression) -> list[str]:
    """The field paths an ordering (a name, ``F()``, ``OrderBy``, a function of fields) reads."""
    if isinstance(expression, str):
        return [expression.removeprefix("-")]
    if isinstance(expression, F):
        return [expression.name]
    sources = getattr(expression, "get_source_expressions", None)
    return [path for source in (sources() if sources else ()) for path in expression_paths(source)]


def search_path(search_field: str) -> str:
    return str(search_field).lstrip("^=@")


def filter_paths(model, list_filter) -> list[str]:
    """The field paths a ``list_filter`` item reads (empty when it cannot be told)."""
    if isinstance(list_filter, (list, tuple)):
        field = list_filter[0]
        return [field if isinstance(field, str) else field.name]
    if isinstance(list_filter, str):
        return [list_filter]
    declared = getattr(list_filter, "catalog_fields", None)
    if declared is not None:
        return list(declared)
    parameter = getattr(list_filter, "parameter_name", None)
    if parameter and resolve(model, parameter):
        return [parameter]
    return []


def attribute(model_admin, model, name):
    """What a ``list_display`` entry that is not a field stands for, as the admin finds it."""
    if callable(name):
        return name
    # As Django's admin reads it: ``__str__`` is the model's, any other name the admin's first.
    target = getattr(model_admin, name, None) if name != "__str__" else None
    if target is None:
        target = getattr(model, name, None)
    return target.fget if isinstance(target, property) else target


def freezable(step: Step) -> bool:
    """Whether a correction request may name this field, which it then freezes."""
    from kirakira.privacy.rights.correction import correctable  # it reads the whole catalog

    fields = correctable().get(step.model._meta.label, (None, {}))[1]
    return step.field.name in fields


def _holder(obj, steps: tuple[Step, ...]):
    """The row that holds the last field of the path (``obj`` itself, or a related row)."""
    for step in steps[:-1]:
        if obj is None:
            return None
        obj = getattr(obj, step.field.name, None)
    return obj


@admin.display(description=_("record"))
def hidden_row(obj):
    """The only column of a list whose every column the viewer may not see."""
    return HIDDEN


@functools.cache
def _judging_changelist(base: type[ChangeList]) -> type[ChangeList]:
    class CatalogChangeList(base):
        def __init__(self, request, *args, **kwargs):
            # The admin passes its attribute; keep the date hierarchy only where it may be used.
            bound = inspect.signature(ChangeList.__init__).bind(self, request, *args, **kwargs)
            model_admin = bound.arguments["model_admin"]
            self._catalog_roles = model_admin.viewer_roles(request)
            bound.arguments["date_hierarchy"] = model_admin.allowed_date_hierarchy(
                request, bound.arguments["date_hierarchy"]
            )
            super().__init__(*bound.args[1:], **bound.kwargs)

        def get_results(self, request):
            super().get_results(request)
            # The rows' frozen fields, for the columns that may show one: one query per model.
            paths = [column.frozen_path for column in self.list_display if hasattr(column, "frozen_path")]
            if paths:
                freeze.annotate(
                    holder
                    for row in self.result_list
                    for steps in paths
                    if (holder := _holder(row, steps)) is not None
                )

        def get_ordering_field(self, field_name):
            # Django sorts ``?o=<column>`` by any column; here only by those offered for sorting.
            if self.sortable_by is not None and field_name not in self.sortable_by:
                return None
            order_field = super().get_ordering_field(field_name)
            if order_field is None or not self.model_admin.may_query(
                self._catalog_roles, expression_paths(order_field)
            ):
                return None
            return order_field

    return CatalogChangeList


class CatalogMaskingAdminMixin(AccessLogAdminMixin):
    # --- judging ----------------------------------------------------------------------------
    def viewer_roles(self, request) -> set[str]:
        return roles_of(request.user) if request is not None else set()

    def may_query(self, roles, paths) -> bool:
        return all(queryable(resolve(self.model, path), roles) for path in paths)

    def _masked_display(self, name: str, steps: tuple[Step, ...]):
        cache = self.__dict__.setdefault("_masked_displays", {})
        if name not in cache:
            attributes = [step.field.name for step in steps]
            mask = steps[-1].entry.mask

            def display(obj, _attributes=attributes, _mask=mask):
                value = obj
                for attribute_name in _attributes:
                    value = getattr(value, attribute_name, None) if value is not None else None
                return mask_value(value, _mask)

            display.short_description = steps[-1].field.verbose_name
            display.__name__ = f"masked_{name}"
            cache[name] = display
        return cache[name]

    def _frozen_display(self, name: str):
        """A change page's field under correction: "under correction", read-only. Named as a
        masked display so that whatever reads a display's name finds the field it stands for."""
        cache = self.__dict__.setdefault("_frozen_displays", {})
        if name not in cache:

            def display(obj):
                return freeze.FROZEN

            display.short_description = self.model._meta.get_field(name).verbose_name
            display.__name__ = f"masked_{name}"
            cache[name] = display
        return cache[name]

    def _freeze_aware(self, name: str, steps: tuple[Step, ...], shown):
        """The column ``shown`` (the field's name or its masked display), saying "under
        correction" on the rows where the field is frozen. Its rows are looked up once per page
        (``CatalogChangeList.get_results``); sorted as the field, when the field may be."""
        if not freezable(steps[-1]):
            return shown
        cache = self.__dict__.setdefault("_freeze_aware_columns", {})
        key = (name, shown == name)
        if key not in cache:
            field = steps[-1].field

            def display(obj, _inner=shown, _field=field):
                holder = _holder(obj, steps)
                if holder is not None and _field.name in freeze.frozen_fields(holder):
                    return freeze.FROZEN
                if callable(_inner):
                    return _inner(obj)
                value = getattr(holder, _field.attname, None) if holder is not None else None
                return display_for_field(value, _field, self.get_empty_value_display())

            display.short_description = field.verbose_name
            display.__name__ = shown.__name__ if callable(shown) else name
            display.frozen_path = steps
            if not callable(shown):
                display.admin_order_field = name
            cache[key] = display
        return cache[key]

    def _as_seen(self, name: str, steps: tuple[Step, ...], roles):
        seen_as = seen(steps, roles)
        if seen_as == FULL:
            return name
        if seen_as == MASKED:
            return self._masked_display(name, steps)
        return None

    def _shown(self, request, name):
        """A change page's field itself, its masked display, or None to leave it out."""
        if not isinstance(name, str):
            return name
        steps = resolve(self.model, name)
        if not steps:
            return name  # an admin or model method: judged by its own code
        return self._as_seen(name, steps, self.viewer_roles(request))

    def _listed(self, request, name):
        """A changelist column itself, its masked display, or None to leave it out. A computed
        column is shown only when it names what it reads and the viewer sees all of it in full."""
        roles = self.viewer_roles(request)
        steps = resolve(self.model, name) if isinstance(name, str) else ()
        if steps:
            shown = self._as_seen(name, steps, roles)
            return self._freeze_aware(name, steps, shown) if shown is not None else None
        declared = getattr(attribute(self, self.model, name), "catalog_fields", None)
        if declared is None:
            return None
        for path in declared:
            path_steps = resolve(self.model, path)
            if not path_steps or seen(path_steps, roles) != FULL:
                return None
        return name

    # --- change pages -----------------------------------------------------------------------
    def _may_freeze(self) -> bool:
        from kirakira.privacy.rights.correction import correctable

        return self.model._meta.label in correctable()

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets  # entering new data is not seeing someone's
        frozen = freeze.frozen_fields(obj) if self._may_freeze() else frozenset()
        result = []
        for title, options in fieldsets:
            fields = [(f, self._shown(request, f)) for f in options.get("fields", ())]
            # Frozen only where it would be shown: a field hidden from the viewer stays hidden.
            fields = [
                self._frozen_display(f) if shown is not None and f in frozen else shown for f, shown in fields
            ]
            fields = [f for f in fields if f is not None]
            if fields:
                result.append((title, {**options, "fields": fields}))
        return result

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        # Without declared fieldsets, Django builds them from a form built with these read-only
        # fields: do not ask for the fieldsets again while they are being built.
        if obj is None or getattr(request, "_catalog_building_fieldsets", False):
            return readonly
        request._catalog_building_fieldsets = True
        try:
            shown = flatten_fieldsets(self.get_fieldsets(request, obj))
        finally:
            request._catalog_building_fieldsets = False
        readonly += [field for field in shown if callable(field) and field not in readonly]  # masked displays
        return readonly

    # --- changelists ------------------------------------------------------------------------
    def action_checkbox(self, obj):
        # Django labels each row's checkbox with ``str(obj)``, which often reads personal data
        # (a login ID, an amount, a time of use) and is not judged per viewer: name no one. The
        # markup is CheckboxInput's, written out: the widget renders a template per row, which
        # was a quarter of a 50-row list.
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            _("Select this row for an action"),
        )

    def get_list_display(self, request):
        columns = [self._listed(request, name) for name in super().get_list_display(request)]
        return [column for column in columns if column is not None] or [hidden_row]

    def get_list_display_links(self, request, list_display):
        links = super().get_list_display_links(request, list_display)
        if not self.list_display_links:
            return links  # the default (the first column shown) or no links at all
        links = [self._listed(request, name) for name in links]
        return [link for link in links if link is not None and link in list_display] or list(list_display)[:1]

    def get_list_filter(self, request):
        roles = self.viewer_roles(request)
        return [
            item
            for item in super().get_list_filter(request)
            if self.may_query(roles, filter_paths(self.model, item))
        ]

    def get_search_fields(self, request):
        roles = self.viewer_roles(request)
        return [
            field
            for field in super().get_search_fields(request)
            if self.may_query(roles, [search_path(field)])
        ]

    def get_ordering(self, request):
        ordering = super().get_ordering(request) or self.model._meta.ordering
        roles = self.viewer_roles(request)
        kept = [part for part in ordering if self.may_query(roles, expression_paths(part))]
        # An empty answer would make the changelist fall back to the unjudged ``ordering``.
        return kept or (["-pk"] if ordering else [])

    def get_sortable_by(self, request):
        roles = self.viewer_roles(request)
        sortable = []
        for column in super().get_sortable_by(request):
            steps = resolve(self.model, column) if isinstance(column, str) else ()
            if steps:
                paths = [column]
            else:
                order_field = getattr(attribute(self, self.model, column), "admin_order_field", None)
                paths = expression_paths(order_field) if order_field is not None else []
            if self.may_query(roles, paths):
                sortable.append(column)
        return sortable

    def allowed_date_hierarchy(self, request, date_hierarchy):
        if date_hierarchy and self.may_query(self.viewer_roles(request), [date_hierarchy]):
            return date_hierarchy
        return None

    def get_changelist(self, request, **kwargs):
        return _judging_changelist(super().get_changelist(request, **kwargs))

    def lookup_allowed(self, lookup, value, request=None):
        # Django accepts a query-string lookup on any local field; a refused one answers 400.
        if not self.may_query(self.viewer_roles(request), [lookup]):
            return False
        return super().lookup_allowed(lookup, value, request)

    def to_field_allowed(self, request, to_field):
        if not self.may_query(self.viewer_roles(request), [to_field]):
            return False
        return super().to_field_allowed(request, to_field)
