"""The retention sweep's disposal of the usage log (``privacy.py`` declares the rule)."""

from django.conf import settings

from kirakira.privacy.retention.ledger import Method

from . import partitions

LABEL = "usage.UsageRecord"


def dispose_for_sweep(disposal, context) -> None:
    code = disposal.rule.code
    result = partitions.dispose_before(
        disposal.cutoff(context.now),
        keep_members=context.held,
        batch_rows=settings.RETENTION_LOG_BATCH_SIZE,
        # Counted in each batch's own transaction: a sweep killed midway counts exactly what went.
        counted=lambda count, oldest, newest: context.count(code, LABEL, Method.DELETED, count, oldest, newest),
        on_batch=(lambda count: context.on_batch(disposal.key, count)) if context.on_batch else None,
        dry_run=context.dry_run,
    )
    if context.dry_run:
        context.count(code, LABEL, Method.DELETED, result.count, result.oldest, result.newest)
    context.count(code, LABEL, Method.HELD, result.kept_for_hold)
