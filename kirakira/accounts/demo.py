"""Demo accounts for development: a few members and one staff user per role, the staff let
through the back office's gate (second factor, security pledge, training)."""

import base64
import hashlib

from django.contrib.auth.models import Group
from django.db import transaction

from kirakira.common import clock
from kirakira.common.roles import ROLE_DECLARATIONS
from kirakira.legal.models import TermsAgreement
from kirakira.legal.services import terms_agree

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
# The backup code every demo staff account has for the back office's second factor (each
# load_demo puts it back once used).
DEMO_BACKUP_CODE = "kirakirademo"
DEMO_PLEDGE = {
    "ja": "私は、業務上知り得た個人情報を、業務の目的の範囲内でのみ取り扱い、在職中も退職後も第三者に漏らしません。"
    "（デモ用の誓約書です。）",
    "en": "I will handle the personal information I learn at work only within the purpose of my work, and "
    "will not disclose it to anyone, while employed or after. (A demo pledge.)",
    "ko": "나는 업무상 알게 된 개인정보를 업무 목적의 범위 안에서만 취급하며, 재직 중에도 퇴직 후에도 제3자에게 누설하지 "
    "않겠습니다. (데모용 서약서입니다.)",
}


@transaction.atomic
def load_demo_accounts(*, password: str) -> list[tuple[str, str, bool]]:
    """Create what is missing; return (login ID, description, created) for each account."""
    rows, staff = [], []
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
            # They registered as any member does: agreeing to the terms in force.
            terms_agree(member=user, channel=TermsAgreement.Channel.REGISTRATION)
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
        staff.append(user)
        rows.append((login_id, f"staff: {role}", created))
    secrets = load_demo_gate(staff)
    return [
        (
            login_id,
            _with_second_factor(description, secrets.get(login_id))
            if description.startswith("staff")
            else description,
            created,
        )
        for login_id, description, created in rows
    ]


def _with_second_factor(description: str, secret: str | None) -> str:
    """What a tester types after the password on the back office's second-factor page."""
    how = f"backup code {DEMO_BACKUP_CODE}"
    if secret:
        how += f" or TOTP secret {secret} (in an authenticator app)"
    return f"{description}; second factor: {how}"


def demo_totp_key(login_id: str) -> str:
    """A demo staff account's fixed TOTP key (hex), so that an authenticator app set up once
    keeps working after the demo database is made again."""
    return hashlib.sha256(f"kirakira-demo-totp:{login_id}".encode()).hexdigest()[:40]


def load_demo_gate(staff: list[User]) -> dict[str, str]:
    """Let the demo staff through the back office's gate: a TOTP device with a fixed key, the
    fixed backup code ``DEMO_BACKUP_CODE`` (put back each time, since a backup code works once),
    the demo security pledge accepted and a training record. Returns each account's TOTP secret
    as an authenticator app takes it (base32)."""
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from .gate import selectors as gate_selectors
    from .gate import services as gate_services
    from .gate.models import PledgeAcceptance, TrainingRecord

    officer = next((user for user in staff if user.has_perm(gate_services.PUBLISH_PERMISSION)), None)
    pledge = gate_selectors.current_pledge()
    if pledge is None and officer is not None:
        pledge = gate_services.pledge_publish(texts=DEMO_PLEDGE, actor=officer)
    secrets = {}
    for user in staff:
        totp = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if totp is None:
            totp = TOTPDevice.objects.create(
                user=user, name="demo", key=demo_totp_key(user.login_id), confirmed=True
            )
        if totp.key == demo_totp_key(user.login_id):
            secrets[user.login_id] = base64.b32encode(totp.bin_key).decode()
        backup = StaticDevice.objects.filter(user=user, confirmed=True).first()
        if backup is None:
            backup = StaticDevice.objects.create(user=user, name="demo", confirmed=True)
        StaticToken.objects.get_or_create(device=backup, token=DEMO_BACKUP_CODE)
        if pledge is not None:
            PledgeAcceptance.objects.get_or_create(staff=user, pledge=pledge)
        trained = TrainingRecord.objects.filter(staff=user, completed_on__gt=gate_selectors.training_cutoff())
        if officer is not None and not trained.exists():
            TrainingRecord.objects.create(
                staff=user,
                course="個人情報保護研修（デモ）",
                completed_on=gate_selectors.today(),
                entered_by=officer,
            )
    return secrets
