from django.core.management.base import BaseCommand, CommandError

from kirakira.accounts.gate.services import second_factor_reset
from kirakira.accounts.models import User
from kirakira.accounts.normalization import normalize_login_id


class Command(BaseCommand):
    help = (
        "Take away a staff account's second factor (TOTP device and backup codes) and end its "
        "sessions: its next back-office login sets up a new one."
    )

    def add_arguments(self, parser):
        parser.add_argument("login_id")

    def handle(self, *args, login_id, **options):
        user = User.objects.filter(login_id=normalize_login_id(login_id), is_staff=True).first()
        if user is None:
            raise CommandError("No staff account has this login ID.")
        deleted = second_factor_reset(user=user)
        self.stdout.write(
            f"Second factor reset ({deleted} devices removed); the next login sets up a new one."
        )
