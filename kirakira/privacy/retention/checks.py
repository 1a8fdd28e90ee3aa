"""``manage.py check`` fails when personal data has no executable retention rule: every model
the catalog declares personal data in, and every rule its fields use, must be carried out by a
disposal (``rules.py``) that names a field of the model (or a parent it goes with)."""

from django.core import checks
from django.core.exceptions import FieldDoesNotExist

from kirakira.privacy.catalog import catalog

from . import rules


@checks.register("kirakira_privacy")
def check_disposals(app_configs=None, **kwargs):
    errors = []
    keys = {d.key for d in rules.disposals()}
    for declaration in catalog.declarations():
        entries = list(declaration.fields.values()) + ([declaration.record] if declaration.record else [])
        if not entries:
            continue
        disposals = rules.for_model(declaration.model_label)
        covered = {d.rule for d in disposals}
        needed = {rule for entry in entries for rule in entry.rules}
        for rule in sorted(needed - covered, key=lambda r: r.code):
            errors.append(
                checks.Error(
                    f"{declaration.model_label} holds personal data under the rule {rule.code!r}, and no "
                    "disposal carries that rule out.",
                    hint="Register one with kirakira.privacy.retention.register in the app's privacy.py.",
                    obj=declaration.model_label,
                    id="kirakira.privacy.E031",
                )
            )
        for disposal in disposals:
            if disposal.with_parent is not None and disposal.with_parent not in keys:
                errors.append(
                    checks.Error(
                        f"{disposal.key} goes with {disposal.with_parent!r}, which is not a registered disposal.",
                        obj=declaration.model_label,
                        id="kirakira.privacy.E032",
                    )
                )
            if disposal.start and disposal.annotations is None and disposal.custom is None:
                try:
                    _resolve(declaration.model, disposal.start)
                except FieldDoesNotExist:
                    errors.append(
                        checks.Error(
                            f"{disposal.key} counts from {disposal.start!r}, which is not a field.",
                            obj=declaration.model_label,
                            id="kirakira.privacy.E033",
                        )
                    )
    return errors


def _resolve(model, path: str) -> None:
    for part in path.split("__"):
        field = model._meta.get_field(part)
        model = field.related_model or model
