"""One check of a confirmation link, in the service: the page that shows the button (GET) and
the button itself (POST, ``member_confirm_email``) refuse exactly the same links with the same
codes, and the page's check writes nothing."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from kirakira.accounts import services
from kirakira.accounts.models import User
from kirakira.accounts.tokens import email_confirmation_token
from kirakira.common import clock
from kirakira.common.testing import MemberFactory

from .helpers import page_text

pytestmark = pytest.mark.django_db


def unconfirmed(**fields) -> User:
    return MemberFactory(email_confirmed_at=None, **fields)


def link_for(user, token=None) -> str:
    return reverse(
        "accounts:confirm_email",
        args=[urlsafe_base64_encode(force_bytes(user.pk)), token or email_confirmation_token.make_token(user)],
    )


def code_of(check, **kwargs) -> str:
    with pytest.raises(ValidationError) as refused:
        check(**kwargs)
    return refused.value.code


def test_the_check_names_the_member_and_writes_nothing():
    member = unconfirmed()
    token = email_confirmation_token.make_token(member)

    with CaptureQueriesContext(connection) as queries:
        found = services.member_check_confirmation(user_id=str(member.pk), token=token)

    assert found == member
    assert queries.captured_queries
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in queries.captured_queries)
    member.refresh_from_db()
    assert member.email_confirmed_at is None


def _used(member):
    token = email_confirmation_token.make_token(member)
    services.member_confirm_email(user_id=member.pk, token=token)
    return token


def _taken(member):
    member.pending_email = "contested@example.com"
    member.email_confirmed_at = clock.now()
    member.save(update_fields=["pending_email", "email_confirmed_at"])
    MemberFactory(email="contested@example.com")
    return email_confirmation_token.make_token(member)


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("not an id", "invalid_link"),
        ("tampered", "invalid_link"),
        ("used", "invalid_link"),
        ("deactivated", "invalid_link"),
        ("taken", "email_taken"),
    ],
)
def test_the_page_and_the_button_refuse_the_same_links_alike(case, code):
    member = unconfirmed()
    user_id, token = member.pk, email_confirmation_token.make_token(member)
    if case == "not an id":
        user_id = "not-a-uuid"
    elif case == "tampered":
        token = token[:-1] + ("a" if token[-1] != "a" else "b")
    elif case == "used":
        token = _used(member)
    elif case == "deactivated":
        User.objects.filter(pk=member.pk).update(is_active=False)
    elif case == "taken":
        token = _taken(member)

    assert code_of(services.member_check_confirmation, user_id=user_id, token=token) == code
    assert code_of(services.member_confirm_email, user_id=user_id, token=token) == code


def test_the_page_asks_the_service(client, monkeypatch):
    member = unconfirmed()

    def refuse(*, user_id, token):
        assert user_id == str(member.pk)
        raise ValidationError("the service's own answer", code="invalid_link")

    monkeypatch.setattr(services, "member_check_confirmation", refuse)

    response = client.get(link_for(member))

    assert response.status_code == 400
    assert "the service&#x27;s own answer" in page_text(response)
