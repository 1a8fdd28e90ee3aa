"""Demo services for development."""

from django.db import transaction

from .models import Service, SnsPlatform

DEMO_SERVICES = [
    {
        "name_ja": "プロフィール写真レタッチ",
        "name_en": "Profile photo retouch",
        "name_ko": "프로필 사진 보정",
        "description_ja": "プロフィール写真を1枚、明るさ・肌・背景を整えて仕上げます。",
        "description_en": "We retouch one profile photo: light, skin and background.",
        "description_ko": "프로필 사진 1장의 밝기, 피부, 배경을 보정해 드립니다.",
        "price_yen": 3000,
        "photo_link_count": 1,
        "platforms": ["instagram", "x", "tiktok", "youtube"],
    },
    {
        "name_ja": "フィード統一デザイン（9枚）",
        "name_en": "Unified feed design (9 photos)",
        "name_ko": "피드 통일 디자인(9장)",
        "description_ja": "9枚の写真の色味とトーンを揃え、統一感のあるフィードにします。",
        "description_en": "We match the colours and tone of nine photos for a consistent feed.",
        "description_ko": "사진 9장의 색감과 톤을 맞춰 통일감 있는 피드로 만들어 드립니다.",
        "price_yen": 12000,
        "photo_link_count": 9,
        "platforms": ["instagram"],
    },
    {
        "name_ja": "アカウント診断レポート",
        "name_en": "Account review report",
        "name_ko": "계정 진단 리포트",
        "description_ja": "アカウントの見せ方を診断し、改善点をレポートでお届けします（写真不要）。",
        "description_en": "We review how your account comes across and send a report of improvements (no photos needed).",
        "description_ko": "계정이 어떻게 보이는지 진단하고 개선점을 리포트로 보내 드립니다(사진 불필요).",
        "price_yen": 5500,
        "photo_link_count": 0,
        "platforms": ["instagram", "x", "tiktok", "youtube"],
    },
]


@transaction.atomic
def load_demo_services() -> list[tuple[str, bool]]:
    rows = []
    for order, data in enumerate(DEMO_SERVICES):
        data = dict(data)
        platforms = data.pop("platforms")
        service, created = Service.objects.get_or_create(
            name_ja=data["name_ja"], defaults={**data, "sort_order": order}
        )
        if created:
            service.platforms.set(SnsPlatform.objects.filter(code__in=platforms))
        rows.append((service.name_ja, created))
    return rows


DEMO_ORDERS = [
    # member, service (name_ja), platform, account ID, steps after ordering
    ("hanako", "プロフィール写真レタッチ", "instagram", "hanako.kirakira", []),
    ("hanako", "アカウント診断レポート", "x", "hanako_sns", ["pay"]),
    ("minsu", "フィード統一デザイン（9枚）", "instagram", "minsu.daily", ["pay", "start"]),
    ("alice", "プロフィール写真レタッチ", "tiktok", "alice.walks", ["pay", "start", "complete"]),
    ("minsu", "アカウント診断レポート", "youtube", "minsu-vlog", ["cancel"]),
    ("alice", "アカウント診断レポート", "instagram", "alice.reads", ["pay", "cancel"]),
]
DEMO_REFUND_ACCOUNT = {
    "bank_name": "きらきら銀行",
    "branch": "新宿支店",
    "account_type": "ordinary",
    "account_number": "7654321",
    "account_holder": "ウォーカー アリス",
}


@transaction.atomic
def load_demo_orders() -> int:
    """Orders in each state for the demo members (once: members who have orders are skipped)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from kirakira.common import clock
    from kirakira.legal.services import terms_pending

    from . import lifecycle, services
    from .models import Order

    User = get_user_model()
    accountant = User.objects.filter(login_id="acct_tanaka").first()
    agent = User.objects.filter(login_id="cs_sato").first()
    created = 0
    for login_id, service_name, platform, account_id, steps in DEMO_ORDERS:
        member = User.objects.filter(login_id=login_id).first()
        service = Service.objects.filter(name_ja=service_name).first()
        if member is None or service is None or Order.objects.filter(member=member, service=service).exists():
            continue
        if terms_pending(member):  # an account that was there before, never agreeing: not ours to order for
            continue
        order = services.order_place(
            member=member,
            service=service,
            platform=platform,
            sns_account_id=account_id,
            photo_links=[
                f"https://photos.example.com/{account_id}/{n}.jpg" for n in range(service.photo_link_count)
            ],
            note="",
            phone="090-1234-5678",
        )
        for step in steps:
            if step == "pay":
                lifecycle.payment_record(
                    order_id=order.pk,
                    amount_yen=order.price_yen,
                    received_on=timezone.localdate(clock.now()),
                    payer_name=member.name,
                    actor=accountant,
                )
            elif step == "cancel":
                paid = lifecycle.paid_total(order) > 0
                lifecycle.order_cancel(
                    order_id=order.pk,
                    member=member,
                    reason="予定が変わったため",
                    refund_account=DEMO_REFUND_ACCOUNT if paid else None,
                )
            else:
                lifecycle.order_advance(order_id=order.pk, step=step, actor=agent)
        created += 1
    return created
