"""The staff's second factor: enrolment on the first back-office login (TOTP, then ten
single-use backup codes shown once), verification after every password login, and the lockout:
a forged or replayed code, or a backup code used already, is refused and counted by axes as a
failed login of that login ID from that address."""

import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import Group
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from kirakira.accounts.gate.testing import confirmed_device, current_code
from kirakira.common.roles import Role
from kirakira.common.testing import PASSWORD, StaffFactory

from .gate_helpers import accept_current_pledge, train

pytestmark = [pytest.mark.django_db, pytest.mark.real_gate]

VERIFY = "/en/backoffice/gate/verify/"
ENROL = "/en/backoffice/gate/enrol/"


@pytest.fixture
def staff():
    user = StaffFactory()
    accept_current_pledge(user)
    train(user)
    return user


@pytest.fixture
def device(staff):
    return confirmed_device(staff)


def failures(user) -> int:
    return sum(
        AccessAttempt.objects.filter(username=user.login_id).values_list("failures_since_start", flat=True)
    )


def wrong_code(device) -> str:
    right = int(current_code(device))
    return f"{(right + 500_000) % 1_000_000:06d}"


def verified(client) -> bool:
    return DEVICE_ID_SESSION_KEY in client.session


def log_in_with_password(client, user):
    response = client.post("/en/backoffice/login/", {"username": user.login_id, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return response


# --- enrolment ----------------------------------------------------------------------------------


def test_first_login_enrols_a_totp_device_then_shows_ten_backup_codes_once(client, staff, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # a right code straight after a wrong one, here
    client.force_login(staff)
    assert client.get("/en/backoffice/")["Location"] == VERIFY
    assert client.get(VERIFY)["Location"] == ENROL

    page = client.get(ENROL).content.decode()

    device = TOTPDevice.objects.get(user=staff)
    assert not device.confirmed
    secret = re.search(r'<code id="enrol-secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    import base64

    assert base64.b32decode(secret) == device.bin_key
    assert "otpauth://totp/Kirakira%20back%20office%3A" + staff.login_id in page
    assert '<svg width="' in page and "<script" not in page.split('id="enrol-qr"')[1].split("</div>")[0]
    # Opening the page again shows the same key.
    client.get(ENROL)
    assert TOTPDevice.objects.get(user=staff).key == device.key

    refused = client.post(ENROL, {"otp_token": wrong_code(device)})

    assert refused.status_code == 200
    assert "This code was not accepted" in refused.content.decode()
    assert failures(staff) == 1
    assert not verified(client)

    done = client.post(ENROL, {"otp_token": current_code(device)})

    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", done.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert StaticToken.objects.filter(device__user=staff).count() == 10
    assert verified(client)
    assert failures(staff) == 0  # the whole login succeeded
    # Shown once: the enrolment page now sends to verification, and no page shows them again.
    assert client.get(ENROL)["Location"] == VERIFY
    assert client.get("/en/backoffice/").status_code == 200


def test_enrolment_is_for_staff_only(client):
    from kirakira.common.testing import MemberFactory

    client.force_login(MemberFactory())

    assert client.get(ENROL)["Location"].startswith("/en/backoffice/login/")
    assert not TOTPDevice.objects.exists()


def test_a_staff_member_who_enrolled_verifies_after_each_password_login(client, staff, device):
    staff.groups.add(Group.objects.get(name=Role.CUSTOMER_SERVICE))
    log_in_with_password(client, staff)
    assert client.get("/en/backoffice/orders/order/")["Location"] == VERIFY
    old_key = client.session.session_key

    response = client.post(VERIFY, {"otp_token": current_code(device)})

    assert response["Location"] == "/en/backoffice/orders/order/"
    assert verified(client)
    assert client.session.session_key != old_key  # a new key for the verified session
    assert client.get("/en/backoffice/orders/order/").status_code == 200


# --- refused codes ------------------------------------------------------------------------------


def test_a_forged_code_is_refused_and_counted(client, staff, device):
    client.force_login(staff)

    response = client.post(VERIFY, {"otp_token": wrong_code(device)})

    assert response.status_code == 200
    assert "This code was not accepted" in response.content.decode()
    assert not verified(client)
    assert failures(staff) == 1


@pytest.mark.parametrize("junk", ["", "abc", "12345678901234567890", "１２３４５６"])
def test_junk_is_refused_and_counted(client, staff, device, junk):
    client.force_login(staff)

    response = client.post(VERIFY, {"otp_token": junk})

    assert response.status_code == 200
    assert not verified(client)
    assert failures(staff) == 1


def test_a_replayed_code_is_refused_and_counted(client, staff, device):
    code = current_code(device)
    client.force_login(staff)
    client.post(VERIFY, {"otp_token": code})
    assert verified(client)
    client.post("/en/backoffice/logout/")

    client.force_login(staff)
    response = client.post(VERIFY, {"otp_token": code})

    assert response.status_code == 200
    assert not verified(client)
    assert failures(staff) == 1


def test_a_backup_code_works_once(client, staff, device, settings):
    from kirakira.accounts.gate import services

    settings.OTP_STATIC_THROTTLE_FACTOR = 0  # another code straight after a refused one, here

    codes = services.backup_codes_replace(user=staff)
    client.force_login(staff)

    client.post(VERIFY, {"otp_token": codes[0].upper()[:5] + "-" + codes[0][5:]})  # as printed, any case

    assert verified(client)
    assert StaticToken.objects.filter(device__user=staff).count() == 9
    client.post("/en/backoffice/logout/")
    client.force_login(staff)

    response = client.post(VERIFY, {"otp_token": codes[0]})

    assert response.status_code == 200
    assert not verified(client)
    assert failures(staff) == 1
    client.post(VERIFY, {"otp_token": codes[1]})
    assert verified(client)


def test_another_accounts_code_is_refused(client, staff, device):
    other = StaffFactory()
    client.force_login(staff)

    client.post(VERIFY, {"otp_token": current_code(confirmed_device(other))})

    assert not verified(client)
    assert failures(staff) == 1


# --- the lockout --------------------------------------------------------------------------------


def test_wrong_codes_lock_the_login_id_and_address_after_the_failure_limit(client, staff, device):
    limit = settings.AXES_FAILURE_LIMIT
    client.force_login(staff)
    for _attempt in range(limit - 1):
        assert client.post(VERIFY, {"otp_token": wrong_code(device)}).status_code == 200

    response = client.post(VERIFY, {"otp_token": wrong_code(device)})

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session  # the half-done login ended
    # Locked: the right password no more logs in, nor a right code from another session.
    response = client.post("/en/backoffice/login/", {"username": staff.login_id, "password": PASSWORD})
    assert response.status_code == 429
    client.force_login(staff)
    assert client.get(VERIFY).status_code == 429
    assert "_auth_user_id" not in client.session
    client.force_login(staff)
    assert client.post(VERIFY, {"otp_token": current_code(device)}).status_code == 429
    assert not verified(client)
    assert client.get("/en/backoffice/orders/order/")["Location"].startswith("/en/backoffice/login/")


def test_the_password_login_of_staff_keeps_the_count_the_second_factor_clears_it(client, staff, device):
    client.force_login(staff)
    client.post(VERIFY, {"otp_token": wrong_code(device)})
    client.post(VERIFY, {"otp_token": wrong_code(device)})
    client.post("/en/backoffice/logout/")

    log_in_with_password(client, staff)

    # Else whoever holds the password could log in again before every fifth guess.
    assert failures(staff) == 2
    from axes.models import AccessAttempt as Attempt

    Attempt.objects.update(failures_since_start=2)  # the brake of django-otp aside
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )
    client.post(VERIFY, {"otp_token": current_code(device)})
    assert verified(client)
    assert failures(staff) == 0


def test_a_members_password_login_still_clears_the_count(client):
    from kirakira.common.testing import MemberFactory

    member = MemberFactory()
    bad = client.post("/en/accounts/login/", {"username": member.login_id, "password": "wrong-password-1"})
    assert bad.status_code == 200
    assert failures(member) == 1

    client.post("/en/accounts/login/", {"username": member.login_id, "password": PASSWORD})

    assert failures(member) == 0


def test_the_code_is_never_copied_into_the_failure_record(client, staff, device):
    client.force_login(staff)
    code = wrong_code(device)

    client.post(VERIFY, {"otp_token": code})

    (attempt,) = AccessAttempt.objects.all()
    assert code not in attempt.post_data


# --- new backup codes ---------------------------------------------------------------------------


def test_new_backup_codes_replace_the_old_ones_and_need_the_second_factor(client, staff, device):
    from kirakira.accounts.gate import services

    old = services.backup_codes_replace(user=staff)
    client.force_login(staff)
    assert client.post("/en/backoffice/gate/backup-codes/")["Location"] == VERIFY
    client.post(VERIFY, {"otp_token": current_code(device)})

    page = client.post("/en/backoffice/gate/backup-codes/").content.decode()

    new = [code.replace("-", "") for code in re.findall(r"<li><code>([a-z2-9-]+)</code></li>", page)]
    assert len(new) == 10
    tokens = set(StaticToken.objects.filter(device__user=staff).values_list("token", flat=True))
    assert tokens == set(new)
    assert not tokens & set(old)


def test_a_code_sent_while_the_brake_holds_is_refused_even_when_right(client, staff, device):
    client.force_login(staff)
    client.post(VERIFY, {"otp_token": wrong_code(device)})

    # django-otp's own brake: after a wrong code, the next one waits a moment.
    response = client.post(VERIFY, {"otp_token": current_code(device)})

    assert "Too many wrong codes in a row: wait" in response.content.decode()
    assert not verified(client)
    assert failures(staff) == 2


def test_the_server_resets_a_lost_second_factor_and_the_next_login_enrols_anew(client, staff, device):
    from io import StringIO

    from django.core.management import call_command

    from kirakira.accounts.gate import services
    from kirakira.accounts.models import BrowserSession

    services.backup_codes_replace(user=staff)
    client.force_login(staff)
    client.post(VERIFY, {"otp_token": current_code(device)})
    assert verified(client)

    call_command("staff_reset_second_factor", staff.login_id.upper(), stdout=StringIO())

    assert not TOTPDevice.objects.filter(user=staff).exists()
    assert not StaticToken.objects.filter(device__user=staff).exists()
    assert not BrowserSession.objects.filter(user=staff).exists()
    client.force_login(staff)
    assert client.get(VERIFY)["Location"] == ENROL


def test_the_reset_is_for_staff_accounts_only():
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from kirakira.common.testing import MemberFactory

    member = MemberFactory()
    with pytest.raises(CommandError):
        call_command("staff_reset_second_factor", member.login_id)
