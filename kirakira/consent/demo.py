"""A demo notice for development: shown to everyone for 30 days from when it is loaded."""

from datetime import timedelta

from kirakira.common import clock

from .models import Audience, Notice

DEMO_NOTICE = {
    "title_ja": "年末年始の営業について",
    "title_en": "Opening hours over the New Year",
    "title_ko": "연말연시 영업 안내",
    "body_ja": "12月29日から1月3日まではお休みをいただきます。期間中のご注文は1月4日から順に対応いたします。",
    "body_en": "We are closed from 29 December to 3 January. Orders placed then are handled from 4 January.",
    "body_ko": "12월 29일부터 1월 3일까지 휴무입니다. 기간 중 주문은 1월 4일부터 순서대로 처리합니다.",
}


def load_demo_notice() -> bool:
    """Create the demo notice unless it is there; True when created."""
    if Notice.objects.filter(title_ja=DEMO_NOTICE["title_ja"]).exists():
        return False
    now = clock.now()
    Notice.objects.create(
        **DEMO_NOTICE, starts_at=now, ends_at=now + timedelta(days=30), audience=Audience.EVERYONE
    )
    return True
