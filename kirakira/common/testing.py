"""Factories and helpers for tests. Passwords are hashed once with the real Argon2 hasher and
reused, so tests exercise the production hasher without paying for it on every user."""

from functools import cache

import factory
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

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
