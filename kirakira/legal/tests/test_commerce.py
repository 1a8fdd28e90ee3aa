"""The commerce disclosure (特定商取引法に基づく表記) at /legal/commerce/ in three languages: every
item the Act asks for, drawn from the settings and the catalog, linked from every page's footer
and from the order form."""

import re

import pytest
from django.test import Client

from kirakira.common.testing import MemberFactory
from kirakira.orders.testing import make_service

pytestmark = pytest.mark.django_db


def text(response) -> str:
    body = response.content.decode()
    body = body[body.index("<main") : body.index("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


@pytest.fixture
def studio(settings):
    settings.STUDIO_NAME = "プレトスタジオ株式会社"
    settings.STUDIO_REPRESENTATIVE = "山本 光"
    settings.STUDIO_REPRESENTATIVE_EN = "Hikaru Yamamoto"
    settings.STUDIO_REPRESENTATIVE_KO = "야마모토 히카루"
    settings.STUDIO_ADDRESS = "東京都渋谷区神南1-2-3"
    settings.STUDIO_ADDRESS_EN = "1-2-3 Jinnan, Shibuya-ku, Tokyo"
    settings.STUDIO_ADDRESS_KO = "도쿄도 시부야구 진난 1-2-3"
    settings.STUDIO_PHONE = "03-1234-5678"
    settings.STUDIO_EMAIL = "shop@studio.example"
    settings.SERVICE_START_BUSINESS_DAYS = 4
    settings.TRANSFER_FEE_PAID_BY_CUSTOMER = True
    make_service(name_ja="フォロワー整理", name_en="Follower care", name_ko="팔로워 관리", price_yen=12000)
    make_service(name_ja="投稿代行", name_en="Posting", name_ko="게시 대행", price_yen=3500)
    return settings


def test_the_japanese_disclosure_states_every_item_the_act_asks_for(studio):
    response = Client().get("/legal/commerce/")
    assert response.status_code == 200
    page = text(response)
    for label, value in [
        ("販売業者", "プレトスタジオ株式会社"),
        ("運営責任者", "山本 光"),
        ("所在地", "東京都渋谷区神南1-2-3"),
        ("電話番号", "03-1234-5678"),
        ("メールアドレス", "shop@studio.example"),
        ("販売価格", "フォロワー整理: 12,000円"),
        ("商品代金以外の必要料金", "振込手数料"),
        ("お支払い方法", "銀行振込"),
        ("お支払いの時期", "ご入金を確認"),
        ("サービスの提供時期", "4営業日以内"),
        ("キャンセル・返金", "作業が完了した後"),
    ]:
        assert label in page, label
        assert value in page, value
    assert "投稿代行: 3,500円" in page
    assert "特定商取引法に基づく表記" in page


def test_the_cancellable_states_are_those_the_code_lets_a_member_cancel_in(studio):
    page = text(Client().get("/en/legal/commerce/"))
    # orders.lifecycle.CANCELLABLE: awaiting payment, paid, in progress; never completed.
    assert "Awaiting payment, Paid, In progress" in page
    assert "Completed," not in page


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        (
            "/en",
            [
                "Act on Specified Commercial Transactions",
                "Hikaru Yamamoto",
                "1-2-3 Jinnan, Shibuya-ku, Tokyo",
                "+81-3-1234-5678",
                "Follower care: ¥12,000",
                "within 4 business days",
            ],
        ),
        (
            "/ko",
            [
                "특정상거래법",
                "야마모토 히카루",
                "도쿄도 시부야구 진난 1-2-3",
                "+81-3-1234-5678",
                "팔로워 관리",
                "4영업일",
            ],
        ),
    ],
)
def test_english_and_korean_pages_show_names_in_their_script_and_phones_in_international_form(
    studio, prefix, expected
):
    page = text(Client().get(f"{prefix}/legal/commerce/"))
    for value in expected:
        assert value in page, value
    assert "山本" not in page and "03-1234-5678" not in page


def test_every_page_footer_and_the_order_form_link_to_it(studio):
    assert 'href="/legal/commerce/"' in Client().get("/").content.decode()
    assert 'href="/en/legal/commerce/"' in Client().get("/en/privacy/policy/").content.decode()
    member = Client()
    member.force_login(MemberFactory())
    from kirakira.orders.models import Service

    service = Service.objects.get(name_en="Follower care")
    form = member.get(f"/orders/new/{service.pk}/").content.decode()
    main = form[form.index("<main") : form.index("</main>")]
    assert 'href="/legal/commerce/"' in main


def test_a_studio_that_pays_the_transfer_fee_says_so(studio):
    studio.TRANSFER_FEE_PAID_BY_CUSTOMER = False
    page = text(Client().get("/legal/commerce/"))
    assert "振込手数料は当店が負担します" in page


def test_the_privacy_policy_shows_the_officer_and_representative_in_the_pages_script(settings):
    settings.PRIVACY_OFFICER_PHONE = "03-0000-0000"
    en = Client().get("/en/privacy/policy/").content.decode()
    ko = Client().get("/ko/privacy/policy/").content.decode()
    ja = Client().get("/privacy/policy/").content.decode()
    assert settings.PRIVACY_OFFICER_NAME_EN in en and settings.PRIVACY_OFFICER_NAME not in en
    assert settings.PRIVACY_OFFICER_NAME_KO in ko and settings.PRIVACY_OFFICER_NAME not in ko
    assert "+81-3-0000-0000" in en and "+81-3-0000-0000" in ko
    assert settings.PRIVACY_OFFICER_NAME in ja and "03-0000-0000" in ja
