"""System checks that hold the back office to the catalog (``python manage.py check``).

The masking mixin (``admin.py``) decides per request; these checks catch at start-up an admin
that could not be right for every role that may open it:

- ``E013`` it shows, filters, searches or sorts personal data without the masking mixin;
- ``E014`` it filters, searches, sorts or drills into dates on an encrypted field (only the
  ciphertext could be compared);
- ``E015`` it does so on a personal field that some role seeing the model does not see in full
  (grants are data, not code, so "seeing the model" is read from the catalog: every role that
  sees any of its fields);
- ``E016`` a computed column or a custom list filter does not say which fields it reads
  (``@shows(...)``);
- ``E017`` a personal field is editable in the list (the list's form is not masked: it would
  show the value to whoever may edit, and save it blank for a viewer whose column is hidden);
- ``E018`` ``@shows(...)`` names something that is not a field.
"""

from django.contrib.admin.utils import flatten_fieldsets
from django.core import checks

from kirakira.common.roles import Role

from .admin import CatalogMaskingAdminMixin, attribute, expression_paths, filter_paths, resolve, search_path
from .declarations import catalog
from .vocabulary import Protection

MIXIN = "CatalogMaskingAdminMixin (kirakira.privacy.catalog.admin)"


def _error(number: int, msg: str, obj, hint: str) -> checks.Error:
    return checks.Error(msg, hint=hint, obj=obj, id=f"kirakira.privacy.E{number:03d}")


def _source(admin_class) -> str:
    module = admin_class.__module__
    return f"{module.replace('.', '/')}.py" if module.startswith("kirakira.") else module


def _privacy_file(model) -> str:
    name = model._meta.app_config.name
    return (
        f"{name.replace('.', '/')}/privacy.py"
        if name.startswith("kirakira.")
        else "kirakira/privacy/third_party.py"
    )


def _catalog_viewers(model) -> frozenset[str]:
    """Every role the catalog lets see something of the model."""
    declaration = catalog.for_model(model)
    entries = []
    if declaration is not None:
        entries = [*declaration.fields.values(), *([declaration.record] if declaration.record else [])]
    return frozenset(role for entry in entries for role in entry.full | entry.masked)


def _has_personal_fields(model) -> bool:
    declaration = catalog.for_model(model)
    return declaration is not None and bool(declaration.fields or declaration.record)


def _default_form_fields(model_admin, model) -> list[str]:
    """What the change page shows when the admin names no fields: its form's fields."""
    meta = getattr(model_admin.form, "_meta", None)
    declared = getattr(meta, "fields", None)
    if isinstance(declared, (list, tuple)):
        names = list(declared)
    else:
        names = [
            field.name
            for field in model._meta.get_fields()
            if (field.concrete or field.many_to_many)
            and getattr(field, "editable", False)
            and not field.auto_created
        ]
    excluded = set(model_admin.exclude or ())
    return [name for name in names if name not in excluded]


class _AdminReview:
    def __init__(self, model, model_admin):
        self.model = model
        self.admin = model_admin
        self.cls = type(model_admin)
        self.where = _source(self.cls)
        # Who may open the list: grants are data, so read it from the catalog; when the catalog
        # shows the model to no role, any role may still be granted the list.
        catalog_viewers = _catalog_viewers(model)
        self.viewers = catalog_viewers or frozenset(Role.values)
        self.who = f"who see {model._meta.label}" if catalog_viewers else "any of whom may be given this list"
        self.problems: list[checks.CheckMessage] = []
        self.personal_paths: list[str] = []  # what it touches that the catalog calls personal

    # --- reading the admin ------------------------------------------------------------------
    def _computed(self, option: str, name, require: bool) -> list[str]:
        """The paths a computed entry names with ``@shows``; reports it when it names none."""
        target = attribute(self.admin, self.model, name) if not isinstance(name, type) else name
        declared = getattr(target, "catalog_fields", None)
        label = getattr(name, "__name__", name)
        if declared is None:
            if require:
                self.problems.append(
                    _error(
                        16,
                        f"{self.cls.__name__}.{option} has {label!r}, which does not say which fields it reads.",
                        self.cls,
                        f"Decorate it with @shows('field', ...) from kirakira.privacy.catalog.admin naming the "
                        f"fields it reads, or @shows() if it reads no personal data, in {self.where}.",
                    )
                )
            return []
        for path in declared:
            if not resolve(self.model, path):
                self.problems.append(
                    _error(
                        18,
                        f"{self.cls.__name__}.{option} has {label!r}, whose @shows names {path!r}, "
                        f"which is not a field of {self.model._meta.label}.",
                        self.cls,
                        f"Name fields as lookup paths from {self.model._meta.label} in {self.where}.",
                    )
                )
        return list(declared)

    def _shown_paths(self) -> list[tuple[str, str]]:
        model_admin, require = self.admin, self._needs_declared_columns()
        shown = []
        for name in model_admin.list_display:
            if isinstance(name, str) and resolve(self.model, name):
                shown.append(("list_display", name))
            elif attribute(model_admin, self.model, name) is not None:
                shown += [("list_display", p) for p in self._computed("list_display", name, require)]
        if model_admin.fieldsets:
            page = flatten_fieldsets(model_admin.fieldsets)
        elif model_admin.fields:
            page = flatten_fieldsets([(None, {"fields": model_admin.fields})])
        else:
            page = _default_form_fields(model_admin, self.model)
        for option, names in (("fieldsets", page), ("readonly_fields", model_admin.readonly_fields)):
            for name in names:
                if isinstance(name, str) and resolve(self.model, name):
                    shown.append((option, name))
                elif attribute(model_admin, self.model, name) is not None:
                    shown += [(option, p) for p in self._computed(option, name, False)]
        return shown

    def _queried_paths(self) -> list[tuple[str, str]]:
        model_admin, require = self.admin, self._needs_declared_columns()
        queried = []
        for item in model_admin.list_filter:
            paths = filter_paths(self.model, item)
            if isinstance(item, type) and not paths:
                paths = self._computed("list_filter", item, require)
            elif isinstance(item, type) and getattr(item, "catalog_fields", None) is not None:
                self._computed("list_filter", item, require)  # reports names that are not fields
            queried += [("list_filter", path) for path in paths]
        queried += [("search_fields", search_path(field)) for field in model_admin.search_fields]
        for part in model_admin.ordering or ():
            queried += [("ordering", path) for path in expression_paths(part)]
        if model_admin.date_hierarchy:
            queried.append(("date_hierarchy", model_admin.date_hierarchy))
        sortable = (
            model_admin.sortable_by if model_admin.sortable_by is not None else model_admin.list_display
        )
        for column in sortable:
            if isinstance(column, str) and resolve(self.model, column):
                if model_admin.sortable_by is not None:
                    queried.append(("sortable_by", column))
                continue  # a column of the list: shown, and sorted only where it may be (mixin)
            order_field = getattr(attribute(model_admin, self.model, column), "admin_order_field", None)
            if order_field is not None:
                queried += [("admin_order_field", path) for path in expression_paths(order_field)]
        return [(option, path) for option, path in queried if path != "?"]

    def _needs_declared_columns(self) -> bool:
        return isinstance(self.admin, CatalogMaskingAdminMixin) or _has_personal_fields(self.model)

    # --- judging ----------------------------------------------------------------------------
    def review(self) -> list[checks.CheckMessage]:
        for _option, path in self._shown_paths():
            if any(step.entry is not None for step in resolve(self.model, path)):
                self.personal_paths.append(path)
        for option, path in self._queried_paths():
            self._judge_query(option, path)
        for name in self.admin.list_editable:
            if isinstance(name, str) and any(step.entry is not None for step in resolve(self.model, name)):
                self.problems.append(
                    _error(
                        17,
                        f"{self.cls.__name__}.list_editable has {name!r}, which is personal data.",
                        self.cls,
                        f"Edit it on the change page, where the catalog decides who sees it: remove it from "
                        f"list_editable in {self.where}.",
                    )
                )
        if self.personal_paths and not isinstance(self.admin, CatalogMaskingAdminMixin):
            fields = ", ".join(sorted(set(self.personal_paths))[:5])
            hint = (
                f"Add {MIXIN} first among {self.cls.__name__}'s bases in {self.where}."
                if self.where.endswith(".py")
                else f"{self.cls.__name__} comes from {self.where}: unregister it, or register "
                f"{self.model._meta.label} again with an admin that uses {MIXIN}."
            )
            self.problems.insert(
                0,
                _error(
                    13,
                    f"{self.cls.__name__} shows personal data of the catalog ({fields}) without masking it by role.",
                    self.cls,
                    hint,
                ),
            )
        return self.problems

    def _judge_query(self, option: str, path: str) -> None:
        for step in resolve(self.model, path):
            entry = step.entry
            if entry is None:
                continue
            self.personal_paths.append(path)
            field = f"{step.model._meta.label}.{step.field.name}"
            if entry.protection == Protection.ENCRYPTED:
                self.problems.append(
                    _error(
                        14,
                        f"{self.cls.__name__}.{option} has {path!r}: {field} is encrypted and cannot be "
                        f"filtered, searched or sorted.",
                        self.cls,
                        f"Remove it from {option} in {self.where}.",
                    )
                )
                return
            short = sorted(role for role in self.viewers if entry.visibility(role) != "full")
            if short:
                self.problems.append(
                    _error(
                        15,
                        f"{self.cls.__name__}.{option} has {path!r}: {field} is not shown in full to "
                        f"{', '.join(short)}, {self.who}; filtering, searching or sorting on it would "
                        f"tell them about it.",
                        self.cls,
                        f"Remove it from {option} in {self.where}, or change who sees {field} in "
                        f"{_privacy_file(step.model)}.",
                    )
                )
                return


def admin_problems(site, models=None) -> list[checks.CheckMessage]:
    """The problems of every admin registered on ``site`` (of ``models`` only, if given)."""
    problems: list[checks.CheckMessage] = []
    for model, model_admin in site._registry.items():
        if models is None or model in models:
            problems += _AdminReview(model, model_admin).review()
    return problems


@checks.register("privacy", checks.Tags.admin)
def check_admin_catalog(app_configs=None, **kwargs):
    from django.contrib import admin

    models = (
        None if app_configs is None else {m for app_config in app_configs for m in app_config.get_models()}
    )
    return admin_problems(admin.site, models)
