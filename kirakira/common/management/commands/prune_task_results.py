from django.conf import settings
from django.core.management.base import BaseCommand

from kirakira.common.tasks import task_results_prune


class Command(BaseCommand):
    help = "Delete finished task rows older than TASK_RESULT_RETENTION_DAYS (run it daily)."

    def handle(self, *args, **options):
        deleted = task_results_prune()
        self.stdout.write(
            f"Deleted {deleted} finished task row(s) older than {settings.TASK_RESULT_RETENTION_DAYS} day(s)."
        )
