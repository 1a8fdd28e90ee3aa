import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kirakira.accounts.demo import load_demo_accounts
from kirakira.consent.demo import load_demo_notice
from kirakira.consultations.demo import load_demo_consultations
from kirakira.orders.demo import load_demo_orders, load_demo_services
from kirakira.privacy.retention.demo import load_demo_withdrawal
from kirakira.privacy.rights.demo import load_demo_rights_requests

DEFAULT_DEMO_PASSWORD = "kirakira-demo-2026"  # noqa: S105 - development data, refused in production


class Command(BaseCommand):
    help = "Create demo members, one staff user per role, demo services and a notice (idempotent; development only)."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("load_demo creates accounts with a known password: not in production.")
        password = os.environ.get("KIRAKIRA_DEMO_PASSWORD", DEFAULT_DEMO_PASSWORD)
        rows = load_demo_accounts(password=password)
        self.stdout.write("Demo accounts (login ID — role):")
        for login_id, description, created in rows:
            self.stdout.write(f"  {login_id:<14} {description}{'' if created else ' (already there)'}")
        self.stdout.write(f"Development password for all of them: {password}")
        services = load_demo_services()
        created = sum(1 for _name, was_created in services if was_created)
        self.stdout.write(f"Demo services: {len(services)} ({created} created now).")
        self.stdout.write(
            f"Demo notice (a popup for everyone): {'created' if load_demo_notice() else 'already there'}."
        )
        self.stdout.write(
            f"Demo orders created now: {load_demo_orders()} (awaiting payment, paid, in progress, completed, cancelled with and without a refund)."
        )
        self.stdout.write(f"Demo consultations created now: {load_demo_consultations()}.")
        withdrawn = load_demo_withdrawal(password=password)
        self.stdout.write(
            "Demo withdrawn member (sayonara): "
            + ("withdrawn now; their records are in separate storage." if withdrawn else "already there.")
        )
        self.stdout.write(
            f"Demo rights requests created now: {load_demo_rights_requests()} "
            "(alice: an open correction, its field frozen; a stop of notices)."
        )
