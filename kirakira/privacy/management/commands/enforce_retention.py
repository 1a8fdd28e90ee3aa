import sys
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kirakira.privacy.retention import rules, sweep
from kirakira.privacy.retention.models import DisposalRun


class Command(BaseCommand):
    help = (
        "Disposes of every record whose retention period is over (the daily schedule runs the same). "
        "--dry-run counts what would go, per rule and model, and changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what is due; dispose of nothing.")
        parser.add_argument(
            "--now",
            help="Count as if it were this time (ISO 8601, e.g. 2031-04-01T00:00+09:00). Only with --dry-run: "
            "moving the clock to dispose of records early is refused.",
        )
        parser.add_argument(
            "--only",
            action="append",
            help="Run only this disposal (repeatable), e.g. usage.UsageRecord:usage_log_6m.",
        )
        parser.add_argument("--batch-size", type=int, help="Records per transaction.")

    def handle(self, *args, dry_run=False, now=None, only=None, batch_size=None, verbosity=1, **options):
        when = None
        if now is not None:
            if not dry_run:
                raise CommandError("--now moves the clock: it is accepted only with --dry-run.")
            try:
                when = datetime.fromisoformat(now)
            except ValueError:
                raise CommandError(f"--now: {now!r} is not an ISO 8601 time.") from None
            if timezone.is_naive(when):
                when = timezone.make_aware(when)
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")
        known = {d.key for d in rules.disposals()}
        unknown = [key for key in only or () if key not in known]
        if unknown:
            raise CommandError(f"Unknown disposal {unknown[0]!r}; known: {', '.join(sorted(known))}.")

        bar = None
        if verbosity > 0 and sys.stdout.isatty():
            from tqdm import tqdm

            bar = tqdm(unit=" records", desc="disposing", file=sys.stdout)

        def progress(key, count):
            if bar is not None:
                bar.set_description(key[:40])
                bar.update(count)

        try:
            result = sweep.run(
                now=when,
                dry_run=dry_run,
                trigger=DisposalRun.Trigger.COMMAND,
                batch_size=batch_size,
                on_batch=progress,
                only=tuple(only) if only else None,
            )
        except sweep.SweepRunning:
            raise CommandError("Another retention sweep is running; this one did nothing.") from None
        finally:
            if bar is not None:
                bar.close()
        if verbosity > 0:
            self._summary(result)

    def _summary(self, result):
        rows = sweep.summary_rows(result)
        title = "Due now (dry run: nothing was disposed of)" if result.dry_run else "Disposed of"
        self.stdout.write(title)
        if not rows:
            self.stdout.write("  nothing")
        else:
            header = ("rule", "records", "how", "count", "oldest", "newest")
            table = [header] + [
                (rule, model, method, f"{count:,}", _day(oldest), _day(newest))
                for rule, model, method, count, oldest, newest in rows
            ]
            widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
            for row in table:
                self.stdout.write(
                    "  " + "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
                )
        if result.run is not None:
            self.stdout.write(f"Ledger: run {result.run.pk} ({result.run.get_status_display()}).")


def _day(value) -> str:
    if value is None:
        return "-"
    return (value.date() if isinstance(value, datetime) else value).isoformat()
