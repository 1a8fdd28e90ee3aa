"""The retention sweep: dispose of everything due, rule by rule (``rules.py``), in batches of
one transaction each, counting every batch into the disposal ledger in the same transaction.

Killed at any moment, a re-run reaches the same final state: a batch is either disposed of and
counted, or neither; the run the kill interrupted stays in the ledger, marked interrupted by
the next run. Two sweeps never run at once (``lock.py``). Members under a legal hold keep
everything; what was due and kept because of a hold is counted as such.
"""

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Max, Min

from kirakira.common import clock

from . import rules
from .ledger import Context, Method, Tally
from .lock import SweepRunning, sweep_lock
from .models import DisposalRun, LegalHold

logger = logging.getLogger(__name__)

__all__ = ["Result", "SweepRunning", "run"]


@dataclass
class Result:
    run: DisposalRun | None
    totals: dict  # (rule code, model label, method) -> Tally
    dry_run: bool

    def count(self, method: str | None = None) -> int:
        return sum(t.count for (_r, _m, how), t in self.totals.items() if method is None or how == method)


def run(
    *,
    now=None,
    dry_run: bool = False,
    trigger: str = DisposalRun.Trigger.COMMAND,
    started_by=None,
    batch_size: int | None = None,
    on_batch=None,
    only: tuple[str, ...] | None = None,
    keep_empty: bool = True,
) -> Result:
    """Dispose of (or, with ``dry_run``, count) everything due at ``now``; ``only`` limits the
    run to some disposals (their keys, "consultations.Consultation:until_purpose_met"). Raises
    ``SweepRunning`` when another sweep holds the lock. ``keep_empty=False`` leaves no run in the
    ledger when nothing was disposed of or kept (the hourly purge of one rule)."""
    from django.conf import settings

    now = now or clock.now()
    started_at = clock.now()
    with sweep_lock():

        def start_run():
            return DisposalRun.objects.create(trigger=trigger, started_by=started_by, started_at=started_at)

        run_row = None
        if not dry_run:
            # Under the lock, a run still marked running is one that was killed.
            DisposalRun.objects.filter(status=DisposalRun.Status.RUNNING).update(
                status=DisposalRun.Status.INTERRUPTED
            )
            if keep_empty:
                run_row = start_run()
        held = frozenset(LegalHold.objects.active(now).values_list("subject_id", flat=True))
        context = Context(
            now=now,
            held=held,
            run=run_row,
            dry_run=dry_run,
            batch_size=batch_size or settings.RETENTION_BATCH_SIZE,
            on_batch=on_batch,
            # Without keep_empty the run is made with the first count, in that batch's transaction.
            start_run=None if keep_empty or dry_run else start_run,
        )
        try:
            if not dry_run and only is None:
                _events(context)
            for disposal in rules.disposals():
                if disposal.with_parent is not None or (only is not None and disposal.key not in only):
                    continue
                if disposal.custom is not None:
                    disposal.custom(disposal, context)
                else:
                    dispose_rows(disposal, context)
        except BaseException as exc:
            run_row = context.run
            if run_row is not None:
                DisposalRun.objects.filter(pk=run_row.pk).update(
                    status=DisposalRun.Status.FAILED, finished_at=clock.now(), error=type(exc).__name__[:200]
                )
            raise
        run_row = context.run
        if run_row is not None:
            DisposalRun.objects.filter(pk=run_row.pk).update(status=DisposalRun.Status.FINISHED, finished_at=clock.now())
            run_row.refresh_from_db()
    return Result(run=run_row, totals=context.totals, dry_run=dry_run)


def _events(context: Context) -> None:
    """What meets a purpose and so starts a clock, before anything is counted as due: answered
    consultations left idle are closed; a withdrawn member's orders whose refund has since been
    paid move to separate storage."""
    from kirakira.consultations import services as consultations_services

    from . import withdrawal

    consultations_services.close_idle(now=context.now)
    withdrawal.move_settled(context)


def _held_filter(disposal, context: Context):
    if disposal.subject is None or not context.held:
        return None
    return {f"{disposal.subject}__in": list(context.held)}


def dispose_rows(disposal, context: Context) -> None:
    """The ordinary way: rows due, in batches of primary keys, each batch deleted (with what
    cascades from it) and counted in one transaction."""
    due = disposal.due(context.now)
    label = disposal.model._meta.label
    held = _held_filter(disposal, context)
    if held is not None:
        kept = due.filter(**held)
        if disposal.start is not None:
            stats = kept.aggregate(n=Count("pk"), oldest=Min(disposal.start), newest=Max(disposal.start))
        else:
            stats = {"n": kept.count(), "oldest": None, "newest": None}
        if stats["n"]:
            with transaction.atomic():
                context.count(disposal.rule.code, label, Method.HELD, stats["n"], stats["oldest"], stats["newest"])
        due = due.exclude(**held)
    if context.dry_run:
        if disposal.start is not None:
            stats = due.aggregate(n=Count("pk"), oldest=Min(disposal.start), newest=Max(disposal.start))
        else:
            stats = {"n": due.count(), "oldest": None, "newest": None}
        context.count(disposal.rule.code, label, Method.DELETED, stats["n"], stats["oldest"], stats["newest"])
        return
    while True:
        with transaction.atomic():
            ids = list(due.order_by().values_list("pk", flat=True)[: context.batch_size])
            if not ids:
                return
            oldest = newest = None
            if disposal.start is not None:
                stats = due.filter(pk__in=ids).aggregate(oldest=Min(disposal.start), newest=Max(disposal.start))
                oldest, newest = stats["oldest"], stats["newest"]
            if disposal.delete is not None:
                per_model = disposal.delete(ids)
            else:
                _total, per_model = disposal.model._base_manager.filter(pk__in=ids).delete()
            for model_label, count in per_model.items():
                if model_label == label:
                    context.count(disposal.rule.code, model_label, Method.DELETED, count, oldest, newest)
                elif model_label == "privacy.DataKey":
                    context.count(disposal.rule.code, model_label, Method.KEY_DESTROYED, count)
                else:
                    context.count(disposal.rule.code, model_label, Method.DELETED, count)
        if context.on_batch is not None:
            context.on_batch(disposal.key, len(ids))


def summary_rows(result: Result) -> list[tuple]:
    """(rule, model, method, count, oldest, newest) sorted for the command's table."""
    rows = []
    for (rule, model, method), tally in sorted(result.totals.items()):
        assert isinstance(tally, Tally)
        rows.append((rule, model, method, tally.count, tally.oldest, tally.newest))
    return rows
