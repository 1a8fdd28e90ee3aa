"""order_place: what a valid order stores, and every refusal leaving nothing behind."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from kirakira.common.testing import MemberFactory
from kirakira.orders import services
from kirakira.orders.models import Order, OrderStatus, Service, SnsPlatform
from kirakira.orders.normalization import normalize_phone


@pytest.fixture
def service(db):
    service = Service.objects.create(
        name_ja="写真レタッチ",
        name_en="Photo retouch",
        name_ko="사진 보정",
        description_ja="説明",
        description_en="d",
        description_ko="d",
        price_yen=3000,
        photo_link_count=2,
    )
    service.platforms.set(SnsPlatform.objects.filter(code__in=["instagram", "x"]))
    return service


@pytest.fixture
def member(db):
    return MemberFactory()


def place(member, service, **overrides):
    data = {
        "platform": "instagram",
        "sns_account_id": "kira.kira",
        "photo_links": ["https://photos.example.com/1.jpg"],
        "note": "明るめでお願いします",
        "phone": "090-1234-5678",
    }
    data.update(overrides)
    return services.order_place(member=member, service=service, **data)


def refused(member, service, field, **overrides):
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        place(member, service, **overrides)
    assert not Order.objects.exists()
    if field is None:
        return " ".join(excinfo.value.messages)
    assert field in excinfo.value.message_dict, excinfo.value
    return " ".join(excinfo.value.message_dict[field])


def test_an_order_keeps_the_price_and_waits_for_payment(
    member, service, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        order = place(member, service, sns_account_id="＠Ｋｉｒａ.kira")
    service.price_yen = 9999
    service.save()
    order = Order.objects.get(pk=order.pk)
    assert order.price_yen == 3000
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert order.sns_account_id == "Kira.kira"
    assert order.photo_links == ["https://photos.example.com/1.jpg"]
    assert order.reference.startswith("K") and len(order.reference) == 8
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [member.email]
    assert order.reference in mailoutbox[0].body and order.reference not in mailoutbox[0].subject


def test_the_phone_is_found_by_its_blind_index_in_any_format(member, service):
    order = place(member, service, phone="０９０ (1234) 5678")
    assert Order.objects.filter(phone_index=Order.phone_index_of("09012345678")).get() == order
    assert normalize_phone("+81 90-1234-5678") == "+819012345678"


def test_references_are_unique_across_orders(member, service):
    references = {place(member, service).reference for _ in range(20)}
    assert len(references) == 20


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"photo_links": ["http://photos.example.com/1.jpg"]}, "photo_links", "https://"),
        ({"photo_links": ["not a link"]}, "photo_links", "Link 1"),
        (
            {"photo_links": ["https://a.example/1", "https://a.example/2", "https://a.example/3"]},
            "photo_links",
            "at most 2",
        ),
        ({"photo_links": ["https://a.example/" + "x" * 2000]}, "photo_links", "2000"),
        ({"photo_links": [1, 2]}, "photo_links", "list"),
        ({"platform": "myspace"}, "platform", "platforms"),
        ({"platform": "tiktok"}, "platform", "platforms"),  # a platform the service is not for
        ({"sns_account_id": "kira kira"}, "sns_account_id", "Instagram"),
        ({"sns_account_id": "きらきら"}, "sns_account_id", "Instagram"),
        ({"sns_account_id": ""}, "sns_account_id", "account ID"),
        ({"phone": ""}, "phone", "phone"),
        ({"phone": "090-ABCD-5678"}, "phone", "digits"),
        ({"phone": "1234"}, "phone", "digits"),
        ({"note": "あ" * 2001}, "note", "2000"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(member, service, overrides, field, message):
    assert message in refused(member, service, field, **overrides)


def test_an_unconfirmed_member_cannot_order(service):
    member = MemberFactory(email_confirmed_at=None)
    assert "confirm your email" in refused(member, service, None)


def test_a_service_off_sale_cannot_be_ordered(member, service):
    service.is_active = False
    service.save()
    assert "not on sale" in refused(member, service, "service")


def test_a_deactivated_platform_cannot_be_chosen(member, service):
    SnsPlatform.objects.filter(code="instagram").update(is_active=False)
    refused(member, service, "platform")


def test_a_service_without_photos_refuses_links(member, service):
    service.photo_link_count = 0
    service.save()
    assert "at most 0" in refused(member, service, "photo_links")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"phone": "(" * 300 + "09012345678"}, "phone"), ({"sns_account_id": "a" * 101}, "sns_account_id")],
)
def test_over_long_phone_and_account_id_are_refused(member, service, overrides, field):
    SnsPlatform.objects.filter(code="instagram").update(account_id_pattern=".+")
    refused(member, service, field, **overrides)


def test_japanese_dashes_in_a_phone_number_are_read_as_hyphens(member, service):
    order = place(member, service, phone="090ー1234−5678")
    assert Order.objects.filter(phone_index=Order.phone_index_of("09012345678")).get() == order


def test_a_note_counts_crlf_line_breaks_once(member, service):
    place(member, service, note=("あ" * 9 + "\r\n") * 200)  # 2000 characters as the member sees them
    assert Order.objects.count() == 1
