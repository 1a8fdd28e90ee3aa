from django.core.management.base import BaseCommand

from kirakira.consultations.services import close_idle


class Command(BaseCommand):
    help = (
        "Close consultations answered and left without a reply for CONSULTATION_IDLE_CLOSE_DAYS (run daily)."
    )

    def handle(self, *args, **options):
        count = close_idle()
        self.stdout.write(f"{count} idle consultation(s) closed.")
