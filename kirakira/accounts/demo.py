"""Demo accounts for development: a few members and one staff user per role."""

from django.contrib.auth.models import Group
from django.db import transaction

from kirakira.common import clock
from kirakira.common.roles import ROLE_DECLARATIONS

from .models import User

DEMO_MEMBERS = [
    # login ID, name, email, language, confirmed
    ("hanako", "山田 花子", "hanako@example.com", "ja", True),
    ("minsu", "김민수", "minsu@example.com", "ko", True),
    ("alice", "Alice Walker", "alice@example.com", "en", True),
    ("newbie", "鈴木 一郎", "newbie@example.com", "ja", False),
]

# One staff account per role, as each role's declaration names it.
DEMO_STAFF = [(*d.demo_account, d.code) for d in ROLE_DECLARATIONS if d.demo_account[0]]


@transaction.atomic
def load_demo_accounts(*, password: str) -> list[tuple[str, str, bool]]:
    """Create what is missing; return (login ID, description, created) for each account."""
    rows = []
    for login_id, name, email, language, confirmed in DEMO_MEMBERS:
        user, created = User.objects.get_or_create(
            login_id=login_id,
            defaults={
                "name": name,
                "email": email,
                "language": language,
                "email_confirmed_at": clock.now() if confirmed else None,
            },
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        rows.append((login_id, "member" + ("" if confirmed else " (email not confirmed)"), created))
    for login_id, name, role in DEMO_STAFF:
        user, created = User.objects.get_or_create(
            login_id=login_id,
            defaults={
                "name": name,
                "email": f"{login_id}@staff.kirakira.example",
                "is_staff": True,
                "email_confirmed_at": clock.now(),
            },
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=role))
        rows.append((login_id, f"staff: {role}", created))
    return rows
