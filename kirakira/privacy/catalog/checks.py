"""System checks that hold the code to the catalog (``python manage.py check``).

Every concrete field of every model must be either declared as personal data or marked as
not personal, in the app's ``privacy.py`` (project apps) or in ``third_party.py`` (everything
installed from outside). A declaration must name real fields, use the policy's vocabulary,
and an "encrypted" declaration must sit on a field that really encrypts.
"""

from django.apps import apps as global_apps
from django.core import checks
from django.core.exceptions import FieldDoesNotExist

from kirakira.common.roles import Role

from .declarations import Catalog, catalog
from .vocabulary import Item, Mask, Protection, Purpose, Retention, RetentionRule

PROJECT_PACKAGE = "kirakira."


def _stored_fields(model):
    """Fields that hold data in the model's table(s) or its many-to-many tables."""
    private = set(model._meta.private_fields)
    return [
        f
        for f in model._meta.get_fields()
        if f not in private and (f.concrete or (f.many_to_many and not f.auto_created))
    ]


def _is_project_model(model) -> bool:
    return model._meta.app_config.name.startswith(PROJECT_PACKAGE)


def _error(number: int, msg: str, obj, hint: str | None = None) -> checks.Error:
    return checks.Error(msg, hint=hint, obj=obj, id=f"kirakira.privacy.E{number:03d}")


def catalog_problems(models, the_catalog: Catalog) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = [
        _error(5, problem, "privacy catalog", "Declare each field once.") for problem in the_catalog.problems
    ]
    labels = set()
    for model in models:
        label = model._meta.label
        labels.add(label.lower())
        declaration = the_catalog.for_model(model)
        where = (
            f"{model._meta.app_config.name.replace('.', '/')}/privacy.py"
            if _is_project_model(model)
            else "kirakira/privacy/third_party.py"
        )
        if declaration is None:
            number = 1 if _is_project_model(model) else 6
            errors.append(
                _error(
                    number,
                    f"Model {label} stores data that the privacy catalog does not know about.",
                    model,
                    f"Declare its fields with personal(...) or not_personal(...) in {where}.",
                )
            )
            continue
        field_names = set()
        for model_field in _stored_fields(model):
            field_names.add(model_field.name)
            if not declaration.covers(model_field.name):
                errors.append(
                    _error(
                        1 if _is_project_model(model) else 6,
                        f"{label}.{model_field.name} is neither declared as personal data nor marked as not personal.",
                        model,
                        f"Add personal({model_field.name!r}, ...) or not_personal({model_field.name!r}, reason=...) in {where}.",
                    )
                )
        for name in [*declaration.fields, *declaration.not_personal]:
            if name not in field_names:
                errors.append(
                    _error(
                        2,
                        f"{label}.{name} is declared in the privacy catalog but the model has no such field.",
                        model,
                    )
                )
        for entry in declaration.fields.values():
            if entry.field not in field_names:
                continue
            encrypts = bool(getattr(model._meta.get_field(entry.field), "encrypts", False))
            if entry.protection == Protection.ENCRYPTED and not encrypts:
                errors.append(
                    _error(
                        3,
                        f"{label}.{entry.field} is declared as encrypted but the field stores plain text.",
                        model,
                        "Use an encrypted field from kirakira.privacy.crypto.fields.",
                    )
                )
            if encrypts and entry.protection != Protection.ENCRYPTED:
                errors.append(
                    _error(3, f"{label}.{entry.field} encrypts but is declared as {entry.protection}.", model)
                )
        if declaration.subject and declaration.subject != "pk" and declaration.subject not in field_names:
            errors.append(
                _error(8, f"{label}: the data subject field {declaration.subject!r} does not exist.", model)
            )
        for entry in [*declaration.fields.values(), *([declaration.record] if declaration.record else [])]:
            errors.extend(_vocabulary_problems(entry, model))
    for declaration in the_catalog.declarations():
        if declaration.model_label.lower() not in labels and _model_missing(declaration.model_label):
            errors.append(
                _error(
                    7,
                    f"The privacy catalog declares {declaration.model_label}, which is not an installed model.",
                    None,
                )
            )
    return errors


def _model_missing(label: str) -> bool:
    try:
        global_apps.get_model(label)
    except (LookupError, ValueError):
        return True
    return False


def _vocabulary_problems(entry, model) -> list[checks.CheckMessage]:
    where = f"{model._meta.label}.{entry.field}"
    problems = []
    if not isinstance(entry.item, Item):
        problems.append(f"unknown item {entry.item!r}")
    if not entry.purposes:
        problems.append("no purpose")
    problems += [f"unknown purpose {p!r}" for p in entry.purposes if not isinstance(p, Purpose)]
    for rule in entry.rules:
        if not isinstance(rule, RetentionRule) or rule not in Retention.all():
            problems.append(f"unknown retention rule {rule!r}")
    if entry.retention_by is not None:
        try:
            model._meta.get_field(entry.retention_by[0].split(".")[0])
        except FieldDoesNotExist:
            problems.append(f"retention depends on {entry.retention_by[0]!r}, which is not a field")
    if not isinstance(entry.protection, Protection):
        problems.append(f"unknown protection {entry.protection!r}")
    if not isinstance(entry.mask, Mask):
        problems.append(f"unknown mask {entry.mask!r}")
    problems += [f"unknown role {r!r}" for r in sorted(entry.full | entry.masked) if r not in Role.values]
    problems += [f"role {r!r} is both full and masked" for r in sorted(entry.full & entry.masked)]
    problems += [
        f"role {r!r} may reveal but does not see it masked" for r in sorted(entry.reveal - entry.masked)
    ]
    return [
        _error(4, f"{where}: {problem}.", model, "Use the vocabulary in kirakira.privacy.catalog.")
        for problem in problems
    ]


@checks.register("privacy", checks.Tags.models)
def check_privacy_catalog(app_configs=None, **kwargs):
    if app_configs is None:
        models = global_apps.get_models()
    else:
        models = [m for app_config in app_configs for m in app_config.get_models()]
    return catalog_problems(models, catalog)
