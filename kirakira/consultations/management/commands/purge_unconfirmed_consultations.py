from django.core.management.base import BaseCommand

from kirakira.consultations.services import purge_unconfirmed


class Command(BaseCommand):
    help = "Delete visitors' consultations whose email confirmation link expired unused (run hourly)."

    def handle(self, *args, **options):
        count = purge_unconfirmed()
        self.stdout.write(f"{count} unconfirmed consultation(s) deleted.")
