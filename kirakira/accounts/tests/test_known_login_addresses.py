"""The login ID slowdown never holds back an account's owner at an address they log in from:
every successful login (page, back office, token API; members and staff) makes its address
familiar for LOGIN_ID_FAMILIAR_DAYS, kept only as a keyed hash. Staff, who are in no usage log,
were slowed down everywhere while an attacker held the turns."""

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.core.management import call_command

from kirakira.accounts.models import KnownLoginAddress
from kirakira.accounts.throttles import _familiar, login_address_hash
from kirakira.common import clock
from kirakira.common.testing import PASSWORD, StaffFactory

from .helpers import logged_in_user_id, page_text

pytestmark = pytest.mark.django_db

BACK_OFFICE_LOGIN = "/en/backoffice/login/"
LOGIN = "/en/accounts/login/"
TOKEN = "/api/v1/auth/token"
START = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
WRONG = "wrong-password-123"
OFFICE = "192.0.2.10"
SLOWED = "Many failed login attempts were made with this login ID recently."


@pytest.fixture
def slowdown(settings, fast_hashing):
    settings.LOGIN_ID_SLOWDOWN_AFTER = 3
    settings.LOGIN_ID_SLOWDOWN_SECONDS = 30
    settings.LOGIN_ID_SLOWDOWN_WINDOW = 15 * 60
    settings.LOGIN_ID_FAMILIAR_DAYS = 30


@pytest.fixture
def staff(fast_hashing):
    return StaffFactory(login_id="staff-hanako", password=make_password(PASSWORD))


def log_in(client, login_id, password, ip, path=BACK_OFFICE_LOGIN):
    return client.post(path, {"username": login_id, "password": password}, REMOTE_ADDR=ip)


def token(client, login_id, password, ip):
    return client.post(
        TOKEN,
        json.dumps({"login_id": login_id, "password": password}),
        content_type="application/json",
        REMOTE_ADDR=ip,
    )


def attack(client, login_id):
    """Wrong passwords from as many addresses as the threshold, then the next address takes
    the turn: the login ID is slowed down and the turn is the attacker's."""
    for n in range(3):
        assert log_in(client, login_id, WRONG, f"198.51.100.{n + 1}", path=LOGIN).status_code == 200
    assert log_in(client, login_id, WRONG, "203.0.113.1", path=LOGIN).status_code == 200
    assert log_in(client, login_id, WRONG, "203.0.113.2", path=LOGIN).status_code == 429


def test_a_staff_member_at_their_usual_address_is_never_slowed_while_an_attacker_holds_the_turns(
    client, slowdown, staff
):
    with clock.frozen_at(START):
        assert log_in(client, "staff-hanako", PASSWORD, OFFICE).status_code == 302
        client.logout()
        clock.advance(timedelta(days=1))
        attack(client, "staff-hanako")
        for round_ in range(5):
            # The attacker comes back the moment each turn opens, and gets it.
            clock.advance(timedelta(seconds=30))
            assert log_in(client, "staff-hanako", WRONG, f"203.0.113.{10 + round_}", path=LOGIN).status_code == 200
            assert log_in(client, "staff-hanako", WRONG, "203.0.113.99", path=LOGIN).status_code == 429

            response = log_in(client, "staff-hanako", PASSWORD, OFFICE)

            assert response.status_code == 302, page_text(response)[:500]
            assert logged_in_user_id(client) == str(staff.pk)
            client.logout()


def test_an_owner_on_a_new_address_gets_a_turn_and_that_address_is_familiar_from_then_on(
    client, slowdown, staff
):
    hotel = "203.0.113.200"
    with clock.frozen_at(START):
        assert log_in(client, "staff-hanako", PASSWORD, OFFICE).status_code == 302
        client.logout()
        attack(client, "staff-hanako")

        waiting = log_in(client, "staff-hanako", PASSWORD, hotel)
        assert waiting.status_code == 429
        assert SLOWED in page_text(waiting)
        clock.advance(timedelta(seconds=int(waiting["Retry-After"])))
        assert log_in(client, "staff-hanako", PASSWORD, hotel).status_code == 302  # the owner's turn
        client.logout()

        clock.advance(timedelta(seconds=30))
        assert log_in(client, "staff-hanako", WRONG, "203.0.113.3", path=LOGIN).status_code == 200
        assert log_in(client, "staff-hanako", PASSWORD, hotel).status_code == 302
    assert logged_in_user_id(client) == str(staff.pk)


def test_an_ipv6_owner_stays_familiar_in_their_64_network(client, slowdown, staff):
    with clock.frozen_at(START):
        assert log_in(client, "staff-hanako", PASSWORD, "2001:db8:1:2::10").status_code == 302
        client.logout()
        attack(client, "staff-hanako")

        # A new address of the same device (privacy extensions change it daily).
        assert log_in(client, "staff-hanako", PASSWORD, "2001:db8:1:2:a:b:c:d").status_code == 302
        client.logout()
        assert log_in(client, "staff-hanako", PASSWORD, "2001:db8:1:3::10").status_code == 429


def test_a_token_login_makes_its_address_familiar(client, slowdown, fast_member):
    member = fast_member(login_id="hanako")
    with clock.frozen_at(START):
        assert token(client, "hanako", PASSWORD, "192.0.2.33").status_code == 200
        assert KnownLoginAddress.objects.filter(
            user=member, address_hash=login_address_hash(member.pk, "192.0.2.33")
        ).exists()
        attack(client, "hanako")

        assert token(client, "hanako", PASSWORD, "192.0.2.33").status_code == 200
        assert token(client, "hanako", PASSWORD, "192.0.2.34").status_code == 429


def test_known_addresses_are_keyed_hashes_that_link_no_two_accounts(client, fast_hashing, staff):
    other = StaffFactory(login_id="staff-jiro", password=make_password(PASSWORD))
    with clock.frozen_at(START):
        assert log_in(client, "staff-hanako", PASSWORD, OFFICE).status_code == 302
        client.logout()
        assert log_in(client, "staff-jiro", PASSWORD, OFFICE).status_code == 302
        client.logout()
        clock.advance(timedelta(hours=2))
        assert log_in(client, "staff-hanako", PASSWORD, OFFICE).status_code == 302  # seen again

    rows = {row.user_id: row for row in KnownLoginAddress.objects.all()}
    assert set(rows) == {staff.pk, other.pk}  # one row per account and address
    assert rows[staff.pk].last_seen_at == START + timedelta(hours=2)
    assert rows[other.pk].last_seen_at == START
    assert rows[staff.pk].address_hash != rows[other.pk].address_hash
    assert len(rows[staff.pk].address_hash) == 64

    def stored() -> str:
        return repr(list(KnownLoginAddress.objects.values()))

    assert OFFICE not in stored()
    KnownLoginAddress.objects.filter(user=other).update(address_hash=OFFICE)
    assert OFFICE in stored()  # the scan sees an address kept in clear


def test_an_address_unseen_for_the_familiar_days_is_slowed_again_and_pruned(client, slowdown, staff):
    with clock.frozen_at(START):
        assert log_in(client, "staff-hanako", PASSWORD, OFFICE).status_code == 302
        client.logout()
    with clock.frozen_at(START + timedelta(days=2)):
        assert log_in(client, "staff-hanako", PASSWORD, "192.0.2.11").status_code == 302
        client.logout()
    with clock.frozen_at(START + timedelta(days=31)):
        attack(client, "staff-hanako")
        assert log_in(client, "staff-hanako", PASSWORD, OFFICE).status_code == 429
        assert log_in(client, "staff-hanako", PASSWORD, "192.0.2.11").status_code == 302
        client.logout()

        call_command("prune_logins", stdout=io.StringIO())

    assert list(KnownLoginAddress.objects.values_list("address_hash", flat=True)) == [
        login_address_hash(staff.pk, "192.0.2.11")
    ]


def test_known_and_unknown_login_ids_are_checked_with_the_same_queries(
    django_assert_num_queries, fast_hashing, staff
):
    KnownLoginAddress.objects.create(
        user=staff, address_hash=login_address_hash(staff.pk, OFFICE), last_seen_at=clock.now()
    )
    for login_id in ("staff-hanako", "nobody99"):
        with django_assert_num_queries(2):  # the known addresses, the usage log
            assert not _familiar(login_id, "203.0.113.5")
    assert _familiar("staff-hanako", OFFICE)
