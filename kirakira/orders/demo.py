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
