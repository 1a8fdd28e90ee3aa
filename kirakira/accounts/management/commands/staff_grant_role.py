from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from kirakira.accounts.staff import staff_role_set_from_server
from kirakira.common.roles import Role


class Command(BaseCommand):
    help = (
        "Give a staff account a role, or take it away with --remove, as the server's operator (recorded "
        "as 'server command'): for the first administrator and privacy officer, since superuser status "
        "gives no permission and role grants beyond one's own wait for the privacy officer."
    )

    def add_arguments(self, parser):
        parser.add_argument("login_id")
        parser.add_argument("role", choices=Role.values)
        parser.add_argument("--remove", action="store_true", help="take the role away instead")

    def handle(self, *args, login_id, role, remove=False, **options):
        try:
            changed = staff_role_set_from_server(login_id=login_id, role=role, remove=remove)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        if not changed:
            self.stdout.write("Nothing to change.")
        else:
            self.stdout.write(self.style.SUCCESS("Role removed." if remove else "Role given."))
