"""The disposal ledger: counts per run, rule, model and method, written in the transaction of
the batch they count. What a restore must dispose of again is in the disposal journal
(``journal.py``), outside the database.
"""

from dataclasses import dataclass, field
from datetime import datetime, time

from django.db.models import F
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone

from .models import DisposalCount, DisposalRun

Method = DisposalCount.Method


@dataclass
class Tally:
    count: int = 0
    oldest: datetime | None = None
    newest: datetime | None = None

    def add(self, count: int, oldest=None, newest=None) -> None:
        self.count += count
        if oldest is not None and (self.oldest is None or oldest < self.oldest):
            self.oldest = oldest
        if newest is not None and (self.newest is None or newest > self.newest):
            self.newest = newest


@dataclass
class Context:
    """What a disposal needs while the sweep runs it: the time, the held members, the run to
    count into (None on a dry run) and the callbacks for progress."""

    now: datetime
    held: frozenset
    run: DisposalRun | None
    dry_run: bool = False
    batch_size: int = 1000
    on_batch: object = None  # callable(disposal_key, count) after each committed batch
    totals: dict = field(default_factory=dict)  # (rule, model, method) -> Tally, for the summary
    # Makes the run on the first count, when no run is wanted unless something is counted.
    start_run: object = None

    def count(self, rule: str, model: str, method: str, count: int, oldest=None, newest=None) -> None:
        """Count disposed records: in memory for the summary and, unless a dry run, in the
        ledger (call it inside the batch's transaction)."""
        if count <= 0:
            return
        oldest, newest = _moment(oldest), _moment(newest)
        self.totals.setdefault((rule, model, method), Tally()).add(count, oldest, newest)
        if self.run is None and self.start_run is not None and not self.dry_run:
            self.run = self.start_run()
        if self.run is not None and not self.dry_run:
            record(self.run, rule, model, method, count, oldest, newest)


def _moment(value):
    """A record time as the ledger keeps it: a date (a training course's) is its day's start."""
    if value is None or isinstance(value, datetime):
        return value
    return timezone.make_aware(datetime.combine(value, time.min))


def record(run: DisposalRun, rule: str, model: str, method: str, count: int, oldest=None, newest=None) -> None:
    row, created = DisposalCount.objects.get_or_create(
        run=run,
        rule=rule,
        model=model,
        method=method,
        defaults={"count": count, "oldest": oldest, "newest": newest},
    )
    if created:
        return
    DisposalCount.objects.filter(pk=row.pk).update(
        count=F("count") + count,
        oldest=Least(Coalesce(F("oldest"), oldest), oldest) if oldest is not None else F("oldest"),
        newest=Greatest(Coalesce(F("newest"), newest), newest) if newest is not None else F("newest"),
    )
