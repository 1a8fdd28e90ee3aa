"""Demo consultations for development: one of each category, some answered, with a note."""

from django.db import transaction

from kirakira.accounts.models import User

from . import services
from .models import Consultation

DEMO = [
    # member, category, subject, body, staff reply (login ID, text) or None, internal note or None
    (
        "hanako",
        "question",
        "納期について",
        "注文した写真はいつ頃届きますか？",
        ("cs_sato", "3営業日以内にお届けします。"),
        None,
    ),
    ("alice", "proposal", "Dark mode", "Could the site offer a dark mode?", None, None),
    (
        "hanako",
        "complaint",
        "仕上がりが違う",
        "依頼した色味と違う仕上がりでした。",
        ("cs_sato", "ご不便をおかけしました。修正いたします。"),
        ("dpo_kimura", "苦情として記録。修正後に再確認すること。"),
    ),
    ("minsu", "personal_information", "개인정보 열람 요청", "제 개인정보를 열람하고 싶습니다.", None, None),
]


@transaction.atomic
def load_demo_consultations() -> int:
    """Create the demo consultations once (idempotent: skipped when any exist)."""
    if Consultation.objects.exists():
        return 0
    users = {
        u.login_id: u
        for u in User.objects.filter(login_id__in=["hanako", "alice", "minsu", "cs_sato", "dpo_kimura"])
    }
    created = 0
    for login_id, category, subject, body, reply, note in DEMO:
        member = users.get(login_id)
        if member is None:
            continue
        consultation = services.consultation_open(
            member=member, category=category, subject=subject, body=body, language=member.language
        )
        if note and note[0] in users:
            services.staff_reply(
                consultation_id=consultation.pk, actor=users[note[0]], body=note[1], internal=True
            )
        if reply and reply[0] in users:
            services.staff_reply(consultation_id=consultation.pk, actor=users[reply[0]], body=reply[1])
        created += 1
    return created
