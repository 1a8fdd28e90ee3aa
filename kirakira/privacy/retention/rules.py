"""Executable retention rules: for each declared model, which of its rows are due for
disposal, from which clock, and how they go.

The catalog says what each field is kept for and under which rule (``Retention``); this
registry says how the rule is carried out. Each app registers its models' disposals next to
their catalog declaration, in its ``privacy.py``::

    retention.register(
        "accounts.BrowserSession",
        rule=Retention.UNTIL_PURPOSE_MET,
        event=_("the login expires or ends"),
        start="expire_date",
    )

A system check (``checks.py``) fails for a declared model, or a rule one of its fields uses,
that no disposal carries out. The sweep (``sweep.py``) runs them all; the policy page and
``privacy_catalog --retention`` show them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.apps import apps
from django.db.models import Q
from django.utils.functional import Promise

from kirakira.privacy.catalog.vocabulary import RetentionRule


@dataclass(frozen=True)
class Disposal:
    model_label: str
    rule: RetentionRule
    # What starts the clock, or what meets the purpose, in the policy's words ("the login expires").
    event: Promise
    # The field (or relation path) holding the moment the clock starts. None: no clock, the rows
    # ``where`` selects are due at once (their purpose has ended: a deactivated staff account's
    # second factor).
    start: str | None = None
    where: Q | Callable[[], Q] | None = None
    # Purpose-met rules may run a fixed time past ``start`` (a setting): the 24 hours of an
    # idempotency key, the days a login address stays familiar.
    after: Callable[[], timedelta] | None = None
    # The rows' data subject for legal holds (a field or path holding a member's ID); None for
    # records of staff work, which holds on members do not stop.
    subject: str | None = None
    # Disposed of together with another model's rows (a message with its consultation): no
    # query of its own, counted in the ledger from the parent's deletion.
    with_parent: str | None = None
    # Carries itself out (large logs by time range, the access log's chain, separate storage):
    # ``run(disposal, context) -> None``, writing its own counts through ``context``.
    custom: Callable | None = None
    # Deletes the rows of one batch (their primary keys) where a plain ``delete()`` cannot:
    # related records that protect them, keys to destroy after. Returns {model label: count}.
    delete: Callable[[list], dict] | None = None
    # Annotations ``start`` may name (an order's end of contract, computed from its rows).
    annotations: Callable[[], dict] | None = None
    name: str = field(default="")
    # Runs after the disposals of lower order (a withdrawn member's key goes after their records).
    order: int = 0

    @property
    def key(self) -> str:
        return self.name or f"{self.model_label}:{self.rule.code}"

    @property
    def model(self):
        return apps.get_model(self.model_label)

    def condition(self) -> Q:
        # A callable when the condition needs models (a subquery), built when the sweep runs.
        return self.where() if callable(self.where) else self.where

    def cutoff(self, now: datetime) -> datetime:
        """Rows whose clock started on or before this moment are due at ``now``."""
        cutoff = self.rule.cutoff(now)
        if self.after is not None:
            cutoff -= self.after()
        return cutoff

    def due(self, now: datetime):
        """The rows due for disposal at ``now`` (holds not yet applied)."""
        rows = self.model._base_manager.all()
        if self.annotations is not None:
            rows = rows.annotate(**self.annotations())
        if self.where is not None:
            rows = rows.filter(self.condition())
        if self.start is not None:
            rows = rows.filter(**{f"{self.start}__lte": self.cutoff(now)})
        return rows

    def not_yet_due(self, now: datetime, until: datetime):
        """Rows that fall due after ``now`` and on or before ``until`` (the forecast)."""
        if self.start is None:
            return self.model._base_manager.none()
        rows = self.model._base_manager.all()
        if self.annotations is not None:
            rows = rows.annotate(**self.annotations())
        if self.where is not None:
            rows = rows.filter(self.condition())
        return rows.filter(**{f"{self.start}__gt": self.cutoff(now), f"{self.start}__lte": self.cutoff(until)})


_registry: dict[str, Disposal] = {}


def register(model_label: str, *, rule: RetentionRule, event: Promise, **options) -> Disposal:
    disposal = Disposal(model_label=model_label, rule=rule, event=event, **options)
    _registry[disposal.key] = disposal
    return disposal


def disposals() -> list[Disposal]:
    return sorted(_registry.values(), key=lambda d: d.order)


def for_model(model_label: str) -> list[Disposal]:
    label = model_label.lower()
    return [d for d in _registry.values() if d.model_label.lower() == label]


def unregister(key: str) -> None:
    """For tests that take a disposal away and put it back."""
    _registry.pop(key, None)


def described() -> list[dict]:
    """Every disposal in plain data (``privacy_catalog --retention``, the policy page): the
    model, the rule, its period and clock, the event, and how the rows go."""
    rows = []
    for disposal in sorted(disposals(), key=lambda d: (d.model_label, d.rule.code)):
        if disposal.with_parent is not None:
            how = f"with {disposal.with_parent.split(':')[0]}"
        elif disposal.custom is not None:
            how = "own disposal"
        else:
            how = "deleted in batches"
        rows.append(
            {
                "model": disposal.model_label,
                "rule": disposal.rule.code,
                "period": str(disposal.rule.period_label),
                "clock": str(disposal.rule.clock.label),
                "event": str(disposal.event),
                "basis": str(disposal.rule.basis),
                "how": how,
            }
        )
    return rows
