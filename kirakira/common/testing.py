"""Factories and helpers for tests. Passwords are hashed once (with Argon2 at its cheapest
parameters, ``FastArgon2PasswordHasher``, first in the test settings) and reused."""

import threading
from functools import cache

import factory
from django.contrib.auth.hashers import Argon2PasswordHasher, make_password
from django.contrib.auth.models import Group
from django.db import connection

from kirakira.accounts.models import User
from kirakira.common import clock

PASSWORD = "correct-horse-battery-9"


@cache
def password_hash() -> str:
    return make_password(PASSWORD)


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    login_id = factory.Sequence(lambda n: f"member{n:04d}")
    name = factory.Sequence(lambda n: f"会員 {n}")
    email = factory.LazyAttribute(lambda o: f"{o.login_id}@example.com")
    email_confirmed_at = factory.LazyFunction(clock.now)
    language = "ja"
    password = factory.LazyFunction(password_hash)


class StaffFactory(MemberFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    login_id = factory.Sequence(lambda n: f"staff{n:04d}")
    is_staff = True

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or []:
            self.groups.add(Group.objects.get(name=str(role)))


def restore_migration_data() -> None:
    """Put back what migrations create (staff roles and their permissions, the SNS platforms):
    transactional tests flush the database after each test, which removes them."""
    import importlib

    from kirakira.common.roles import sync_role_groups

    sync_role_groups()
    from kirakira.orders.models import SnsPlatform

    platforms = importlib.import_module("kirakira.orders.migrations.0002_platforms_and_roles").PLATFORMS
    for order, (code, name, pattern, rule_ja, rule_en, rule_ko) in enumerate(platforms):
        SnsPlatform.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "account_id_pattern": pattern,
                "account_id_rule_ja": rule_ja,
                "account_id_rule_en": rule_en,
                "account_id_rule_ko": rule_ko,
                "sort_order": order,
            },
        )


def at_once(*calls) -> list:
    """Run each call in its own thread, all released together; return results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - handed back to the test to assert on
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a thread is stuck (deadlock?)"
    return results


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 still, with the cheapest parameters: the test settings put it first, so that the
    hundreds of logins in the suite do not each pay the production cost (about 0.2 s here).
    Production's parameters are Django's (config/settings.py); hashes made by either verify
    under both, since Argon2 stores its parameters in the hash."""

    time_cost = 1
    memory_cost = 8
    parallelism = 1
