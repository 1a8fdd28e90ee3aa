from django.core.management.base import BaseCommand

from kirakira.accounts.services import logins_prune


class Command(BaseCommand):
    help = (
        "Delete expired browser sessions and API tokens, and those of deactivated accounts "
        "(run daily; it does what clearsessions does, and more)."
    )

    def handle(self, *args, **options):
        sessions, tokens = logins_prune()
        self.stdout.write(f"Deleted {sessions} browser session(s) and {tokens} API token(s).")
