"""`load_demo` lets a newcomer try every role through the real gate: it prints each demo staff
account's second factor (a fixed backup code, a TOTP secret) and gives them the pledge and a
training record."""

import base64
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from kirakira.accounts.demo import DEMO_BACKUP_CODE, DEMO_STAFF
from kirakira.accounts.gate.models import PledgeAcceptance, SecurityPledge, TrainingRecord
from kirakira.common.management.commands.load_demo import DEFAULT_DEMO_PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.real_gate, pytest.mark.usefixtures("fast_hashing")]


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def log_in(login_id: str) -> Client:
    client = Client()
    response = client.post("/en/backoffice/login/", {"username": login_id, "password": DEFAULT_DEMO_PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def output(monkeypatch):
    monkeypatch.delenv("KIRAKIRA_DEMO_PASSWORD", raising=False)
    return load_demo()


def test_every_demo_staff_account_passes_the_gate_with_the_printed_backup_code(output):
    assert f"backup code {DEMO_BACKUP_CODE}" in output
    for login_id, _name, _role in DEMO_STAFF:
        client = log_in(login_id)
        assert client.get("/en/backoffice/")["Location"] == "/en/backoffice/gate/verify/"

        response = client.post("/en/backoffice/gate/verify/", {"otp_token": DEMO_BACKUP_CODE})

        assert response["Location"] == "/en/backoffice/", login_id
        assert client.get("/en/backoffice/").status_code == 200


def test_the_printed_totp_secret_gives_working_codes(output):
    login_id = DEMO_STAFF[0][0]
    line = next(line for line in output.splitlines() if line.strip().startswith(login_id))
    secret = re.search(r"TOTP secret ([A-Z2-7]+)", line).group(1)
    client = log_in(login_id)

    client.post("/en/backoffice/gate/verify/", {"otp_token": f"{totp(base64.b32decode(secret)):06d}"})

    assert client.get("/en/backoffice/").status_code == 200


def test_the_backup_code_comes_back_with_the_next_load_demo_and_nothing_is_doubled(output):
    login_id = DEMO_STAFF[0][0]
    client = log_in(login_id)
    client.post("/en/backoffice/gate/verify/", {"otp_token": DEMO_BACKUP_CODE})
    counts = (
        SecurityPledge.objects.count(),
        PledgeAcceptance.objects.count(),
        TrainingRecord.objects.count(),
        TOTPDevice.objects.count(),
    )

    load_demo()

    client = log_in(login_id)
    response = client.post("/en/backoffice/gate/verify/", {"otp_token": DEMO_BACKUP_CODE})
    assert response["Location"] == "/en/backoffice/"
    assert (
        (
            SecurityPledge.objects.count(),
            PledgeAcceptance.objects.count(),
            TrainingRecord.objects.count(),
            TOTPDevice.objects.count(),
        )
        == counts
        == (1, len(DEMO_STAFF), len(DEMO_STAFF), len(DEMO_STAFF))
    )
