from django.core.management.base import BaseCommand, CommandError

from kirakira.privacy.access_log import chain


class Command(BaseCommand):
    help = "Checks the staff access log's seals from the oldest kept record to the newest; names the first broken link."

    def handle(self, *args, **options):
        checked, broken = chain.verify()
        if broken is not None:
            raise CommandError(
                f"The staff access log is broken at {broken} ({checked} records before it hold)."
            )
        self.stdout.write(f"The staff access log holds: {checked} records, every seal and link intact.")
