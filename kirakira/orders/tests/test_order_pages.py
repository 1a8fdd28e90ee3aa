"""The member's order pages: ordering a service, the order's page with the bank transfer
instructions, and the list of one's own orders.

Error messages come from the service layer (shared with the API) and are shown on the form in
the page's language: Japanese by default, English under /en/. The expected texts are taken from
the catalogs, so a rewording of a translation does not break these tests.
"""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation
from django.utils.translation import gettext, ngettext

from kirakira.accounts.tests.helpers import ja
from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.orders import idempotency, services
from kirakira.orders.models import Order, OrderStatus, Service, SnsPlatform

PRICE = 3000
LINKS = ["https://photos.example.com/kira/1.jpg", "https://photos.example.com/kira/2.jpg?size=large"]
NOTE = "背景を明るくしてください。\n二枚目は縦長でお願いします。"
PHONE = "090-1234-5678"
REFERENCE = re.compile(r"^K[0-9A-HJKMNP-TV-Z]{7}$")


def make_service(*, photo_link_count=3, is_active=True, price_yen=PRICE, platforms=("instagram", "x")):
    service = Service.objects.create(
        name_ja="写真レタッチ",
        name_en="Photo retouch",
        name_ko="사진 보정",
        description_ja="写真を整えます。",
        description_en="We retouch your photos.",
        description_ko="사진을 보정합니다.",
        price_yen=price_yen,
        photo_link_count=photo_link_count,
        is_active=is_active,
    )
    service.platforms.set(SnsPlatform.objects.filter(code__in=platforms))
    return service


def new_url(service, prefix=""):
    return f"{prefix}/orders/new/{service.pk}/"


def detail_url(order, prefix=""):
    return f"{prefix}/orders/{order.pk}/"


def valid_data(**overrides):
    """The order form as sent, with a one-time token of its own (a new form each time)."""
    data = {
        "platform": "instagram",
        "sns_account_id": "kira.kira_01",
        "photo_links": "\n".join(LINKS),
        "note": NOTE,
        "phone": PHONE,
        "submission": idempotency.new_form_token(),
    }
    data.update(overrides)
    return data


def in_language(language, msgid, plural=None, n=None, **params):
    """The text of a message in ``language``, as the pages render it (HTML-escaped)."""
    with translation.override(language):
        text = ngettext(msgid, plural, n) if plural else gettext(msgid)
    return html.escape(text % params if params else text)


def page(response) -> str:
    return response.content.decode()


def place(member, service, **overrides):
    data = valid_data(**overrides)
    del data["submission"]
    data["photo_links"] = data["photo_links"].splitlines()
    return services.order_place(member=member, service=service, **data)


@pytest.fixture
def service(db):
    return make_service()


@pytest.fixture
def member(client):
    member = MemberFactory(login_id="hanako", name="山田 花子", email="hanako@example.com")
    client.force_login(member)
    return member


# --- Placing an order ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_confirmed_member_orders_and_gets_the_payment_details(
    client, member, service, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            new_url(service),
            valid_data(
                sns_account_id=" ＠Ｋｉｒａ．ｋｉｒａ＿０１ ",
                photo_links=f"  {LINKS[0]}  \n\n{LINKS[1]}\n",
            ),
        )

    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{order.pk}/"
    assert order.member == member and order.service == service
    assert order.price_yen == PRICE
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert REFERENCE.match(order.reference), order.reference
    assert order.platform.code == "instagram"
    assert order.sns_account_id == "Kira.kira_01"
    assert order.photo_links == LINKS
    assert order.note == NOTE
    assert order.phone == PHONE

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["hanako@example.com"]
    for personal in ("山田", "花子", "hanako", "Kira.kira_01", PHONE, "1234", order.reference, *LINKS):
        assert personal not in mail.subject
    bank = settings.STUDIO_BANK_ACCOUNT
    for expected in (
        bank["bank_name"],
        bank["branch"],
        bank["account_number"],
        bank["account_holder"],
        "3,000円",
        order.reference,
        f"http://testserver/orders/{order.pk}/",
    ):
        assert expected in mail.body, expected

    shown = client.get(response["Location"])
    body = page(shown)
    assert shown.status_code == 200
    assert in_language("ja", "Thank you for your order. Please pay by bank transfer as shown below.") in body
    for expected in (
        "写真レタッチ",
        "3,000円",
        order.reference,
        bank["bank_name"],
        bank["branch"],
        "普通",  # the account type's label in the page's language
        bank["account_number"],
        bank["account_holder"],
        "Instagram",
        "Kira.kira_01",
        html.escape(NOTE),
        PHONE,
        in_language("ja", "Awaiting payment"),
        in_language("ja", "Please pay by bank transfer"),
    ):
        assert expected in body, expected
    for link in LINKS:
        escaped = html.escape(link)
        assert f'<a href="{escaped}" rel="noreferrer noopener nofollow" target="_blank">{escaped}</a>' in body


@pytest.mark.django_db
def test_the_order_form_shows_the_services_platforms_rules_and_link_count(client, member, service):
    body = page(client.get(new_url(service)))
    assert '<option value="instagram">Instagram</option>' in body
    assert '<option value="x">X</option>' in body
    assert 'value="tiktok"' not in body
    instagram = SnsPlatform.objects.get(code="instagram")
    assert html.escape(instagram.account_id_rule_ja) in body
    assert (
        in_language(
            "ja",
            "One https:// link per line, up to %(count)d link.",
            "One https:// link per line, up to %(count)d links.",
            3,
            count=3,
        )
        in body
    )
    assert 'name="photo_links"' in body

    english = page(client.get(new_url(service, "/en")))
    assert html.escape(instagram.account_id_rule_en) in english
    assert "One https:// link per line, up to 3 links." in english


@pytest.mark.django_db
def test_a_service_without_photos_has_no_link_field_and_ignores_none(
    client, member, mailoutbox, django_capture_on_commit_callbacks
):
    service = make_service(photo_link_count=0)
    assert 'name="photo_links"' not in page(client.get(new_url(service)))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(new_url(service), valid_data(photo_links=""))

    assert response.status_code == 302
    assert Order.objects.get().photo_links == []
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_the_note_is_optional(client, member, service):
    response = client.post(new_url(service), valid_data(note=""))

    assert response.status_code == 302
    order = Order.objects.get()
    assert order.note == ""
    assert client.get(detail_url(order)).status_code == 200


@pytest.mark.django_db
def test_a_notes_line_breaks_count_as_one_character(client, member, service):
    note = "\r\n".join(["あ"] * 1000)  # 1,999 characters as typed, 2,998 as a browser sends it

    response = client.post(new_url(service), valid_data(note=note))

    assert response.status_code == 302
    assert Order.objects.get().note == note.replace("\r\n", "\n")


@pytest.mark.django_db
def test_the_price_is_the_one_at_ordering_time(client, member, service):
    client.post(new_url(service), valid_data())
    Service.objects.filter(pk=service.pk).update(price_yen=5000)

    order = Order.objects.get()
    assert order.price_yen == PRICE
    assert "3,000円" in page(client.get(detail_url(order)))


# --- Bad input: no order, the message on the form, in the page's language --------------------

ACCOUNT_ID_ERROR = "This is not a valid %(platform)s account ID: %(rule)s"
PHONE_ERROR = "Enter a phone number of %(min)d to %(max)d digits (digits, spaces, hyphens, brackets and a leading + only)."
PLATFORM_ERROR = "Choose one of the SNS platforms this service is for."
NOT_HTTPS = "Link %(number)d is not a valid https:// address."


def account_id_error(code):
    def message(language):
        platform = SnsPlatform.objects.get(code=code)
        with translation.override(language):
            rule = platform.account_id_rule()
        return in_language(language, ACCOUNT_ID_ERROR, platform=platform.name, rule=rule)

    return message


def simple(msgid, plural=None, n=None, **params):
    return lambda language: in_language(language, msgid, plural, n, **params)


BAD_INPUT = {
    "http link": (
        {"photo_links": "http://photos.example.com/1.jpg"},
        "photo_links",
        simple(NOT_HTTPS, number=1),
    ),
    "malformed link": (
        {"photo_links": f"{LINKS[0]}\nhttps//photos.example.com/2.jpg"},
        "photo_links",
        simple(NOT_HTTPS, number=2),
    ),
    "link without host": ({"photo_links": "https://"}, "photo_links", simple(NOT_HTTPS, number=1)),
    "javascript link": ({"photo_links": "javascript:alert(1)"}, "photo_links", simple(NOT_HTTPS, number=1)),
    "too many links": (
        {"photo_links": "\n".join(f"https://photos.example.com/{n}.jpg" for n in range(4))},
        "photo_links",
        simple(
            "This service takes at most %(count)d photo link.",
            "This service takes at most %(count)d photo links.",
            3,
            count=3,
        ),
    ),
    "link too long": (
        {"photo_links": "https://photos.example.com/" + "a" * 2000},
        "photo_links",
        simple("Link %(number)d is longer than %(max)d characters.", number=1, max=2000),
    ),
    "unknown platform": ({"platform": "myspace"}, "platform", simple(PLATFORM_ERROR)),
    "platform the service is not for": (
        {"platform": "tiktok", "sns_account_id": "kira.kira"},
        "platform",
        simple(PLATFORM_ERROR),
    ),
    "no platform": ({"platform": ""}, "platform", simple(PLATFORM_ERROR)),
    "no account ID": ({"sns_account_id": "  "}, "sns_account_id", simple("Enter the account ID.")),
    "instagram ID with two periods": (
        {"sns_account_id": "kira..kira"},
        "sns_account_id",
        account_id_error("instagram"),
    ),
    "instagram ID with a hyphen": (
        {"sns_account_id": "kira-kira"},
        "sns_account_id",
        account_id_error("instagram"),
    ),
    "instagram ID in Japanese": (
        {"sns_account_id": "きらきら"},
        "sns_account_id",
        account_id_error("instagram"),
    ),
    "X ID with a period": (
        {"platform": "x", "sns_account_id": "kira.kira"},
        "sns_account_id",
        account_id_error("x"),
    ),
    "X ID too long": ({"platform": "x", "sns_account_id": "a" * 16}, "sns_account_id", account_id_error("x")),
    "X ID with a space": (
        {"platform": "x", "sns_account_id": "kira kira"},
        "sns_account_id",
        account_id_error("x"),
    ),
    "empty phone": ({"phone": ""}, "phone", simple("Enter your phone number.")),
    "phone with letters": ({"phone": "090-1234-ABCD"}, "phone", simple(PHONE_ERROR, min=10, max=15)),
    "phone with too few digits": ({"phone": "03-1234-567"}, "phone", simple(PHONE_ERROR, min=10, max=15)),
    "note too long": (
        {"note": "あ" * 2001},
        "note",
        simple("The note is at most %(max)d characters long.", max=2000),
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize(("prefix", "language"), [("", "ja"), ("/en", "en")])
@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_places_no_order_and_shows_the_error_on_the_form(
    client, member, service, mailoutbox, django_capture_on_commit_callbacks, case, prefix, language
):
    overrides, field, message = BAD_INPUT[case]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(new_url(service, prefix), valid_data(**overrides))

    assert response.status_code == 400
    assert not Order.objects.exists()
    assert mailoutbox == []
    expected = message(language)
    assert html.escape(response.context["form"].errors[field][0]) == expected
    assert expected in page(response)
    assert f'<html lang="{language}">' in page(response)


@pytest.mark.django_db
def test_errors_of_several_fields_are_shown_together_and_the_input_is_kept(client, member, service):
    response = client.post(
        new_url(service), valid_data(sns_account_id="kira..kira", phone="", note="お願いします")
    )

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"sns_account_id", "phone"}
    body = page(response)
    assert 'value="kira..kira"' in body
    assert "お願いします" in body
    assert html.escape(LINKS[1]) in body


@pytest.mark.django_db
def test_an_unconfirmed_member_sees_why_and_cannot_order(client, service, mailoutbox):
    member = MemberFactory(email_confirmed_at=None)
    client.force_login(member)

    shown = client.get(new_url(service))
    refused = client.post(new_url(service), valid_data())

    message = in_language(
        "ja", "Please confirm your email address before ordering: open the link we sent you."
    )
    for response in (shown, refused):
        body = page(response)
        assert message in body
        assert 'action="/accounts/confirm/resend/"' in body
        assert 'name="sns_account_id"' not in body
    assert shown.status_code == 200
    assert refused.status_code == 403
    assert not Order.objects.exists()
    assert mailoutbox == []
    english = page(client.get(new_url(service, "/en")))
    assert "Please confirm your email address before ordering: open the link we sent you." in english


@pytest.mark.django_db
def test_an_off_sale_or_unknown_service_is_not_found(client, member):
    off_sale = make_service(is_active=False)

    assert client.get(new_url(off_sale)).status_code == 404
    assert client.post(new_url(off_sale), valid_data()).status_code == 404
    assert client.get(f"/orders/new/{off_sale.pk + 1000}/").status_code == 404
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_the_order_pages_need_a_login(client, service):
    order = place(MemberFactory(), service)

    for url in ("/orders/", new_url(service), detail_url(order)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={url}"
    response = client.post(new_url(service), valid_data())
    assert response.status_code == 302
    assert Order.objects.count() == 1


# --- The order's page --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_order_page_is_in_english_under_en(client, member, service):
    order = place(member, service)

    body = page(client.get(detail_url(order, "/en")))

    for expected in (
        "Photo retouch",
        "¥3,000",
        "Awaiting payment",
        "Please pay by bank transfer",
        order.reference,
    ):
        assert expected in body, expected


@pytest.mark.django_db
def test_the_bank_box_is_in_the_pages_language(client, member, service):
    # Seen: the English page showed 普通 and the Japanese bank name.
    order = place(member, service)
    english = page(client.get(detail_url(order, "/en")))
    box = english[english.index("payment-heading") : english.index("</section>", english.index("payment-heading"))]
    assert "Kirakira Bank Shibuya Branch (123)" in box
    assert "Ordinary (普通) 1234567" in box
    assert "きらきら銀行" not in box and "渋谷支店" not in box
    japanese = page(client.get(detail_url(order)))
    assert "きらきら銀行 渋谷支店 (123)" in japanese and "普通 1234567" in japanese


@pytest.mark.django_db
def test_the_bank_details_are_shown_only_while_awaiting_payment(client, member, service):
    order = place(member, service)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PAID)

    body = page(client.get(detail_url(order)))

    assert in_language("ja", "Paid") in body
    assert settings.STUDIO_BANK_ACCOUNT["account_number"] not in body
    assert in_language("ja", "Please pay by bank transfer") not in body
    assert order.reference in body


@pytest.mark.django_db
def test_nobody_else_sees_an_order_not_even_staff(client, service):
    owner = MemberFactory()
    order = place(owner, service)

    for other in (
        MemberFactory(),
        StaffFactory(roles=[Role.CUSTOMER_SERVICE]),
        StaffFactory(is_superuser=True, roles=[Role.ADMINISTRATOR]),
    ):
        client.force_login(other)
        response = client.get(detail_url(order))
        assert response.status_code == 404
        assert order.reference not in page(response)
        assert "kira.kira_01" not in page(response)
    client.force_login(owner)
    assert client.get(detail_url(order)).status_code == 200


@pytest.mark.django_db
def test_an_unknown_order_is_not_found(client, member):
    assert client.get("/orders/00000000-0000-4000-8000-000000000000/").status_code == 404
    assert client.get("/orders/not-a-uuid/").status_code == 404


# --- The list of orders ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_shows_only_ones_own_orders_newest_first(client, member, service):
    other_service = make_service(price_yen=4500)
    other_service.name_ja = "動画編集"
    other_service.save()
    with clock.frozen_at(datetime(2026, 4, 1, 9, 0, tzinfo=UTC)):
        first = place(member, service)
        clock.advance(timedelta(days=1))
        second = place(member, other_service)
        clock.advance(timedelta(days=1))
        someone_elses = place(MemberFactory(), service)

    response = client.get("/orders/")
    body = page(response)

    assert response.status_code == 200
    assert [order.pk for order in response.context["orders"]] == [second.pk, first.pk]
    assert body.index(second.reference) < body.index(first.reference)
    for order in (first, second):
        assert f'href="/orders/{order.pk}/"' in body
    assert "動画編集" in body and "4,500円" in body and "3,000円" in body
    assert in_language("ja", "Awaiting payment") in body
    assert someone_elses.reference not in body
    assert str(someone_elses.pk) not in body


@pytest.mark.django_db
def test_the_list_has_an_empty_state(client, member):
    place(MemberFactory(), make_service())

    body = page(client.get("/orders/"))

    assert in_language("ja", "You have not ordered anything yet.") in body
    assert "<table" not in body
    assert "You have not ordered anything yet." in page(client.get("/en/orders/"))


@pytest.mark.django_db
def test_the_list_queries_do_not_grow_with_the_number_of_orders(
    client, member, service, django_assert_max_num_queries
):
    place(member, service)
    with django_assert_max_num_queries(12) as few:
        client.get("/orders/")
    for _ in range(14):
        place(member, make_service())
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/orders/")
    assert len(response.context["orders"]) == 15


# --- Navigation ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_home_page_offers_an_order_button_and_members_a_link_to_their_orders(client, service):
    assert f'href="/orders/new/{service.pk}/"' in page(client.get("/"))
    assert 'href="/orders/"' not in page(client.get("/"))

    client.force_login(MemberFactory())
    body = page(client.get("/"))
    assert 'href="/orders/"' in body
    assert in_language("ja", "My orders") in body


# --- At rest ----------------------------------------------------------------------------------


def raw_column(order, column) -> object:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(column)} FROM {quote(Order._meta.db_table)} WHERE {quote('id')} = %s",  # noqa: S608
            [Order._meta.pk.get_db_prep_value(order.pk, connection)],
        )
        (value,) = cursor.fetchone()
    return value


@pytest.mark.django_db
def test_the_order_information_is_encrypted_at_rest(client, member, service):
    client.post(new_url(service), valid_data(sns_account_id="kira.kira_01"))
    order = Order.objects.get()

    plaintexts = {
        "sns_account_id": ["kira.kira_01"],
        "photo_links": LINKS,
        "note": [NOTE, "背景を明るく"],
        "phone": [PHONE, "1234-5678"],
    }
    for column, texts in plaintexts.items():
        raw = raw_column(order, column)
        assert isinstance(raw, bytes | memoryview), (column, type(raw))
        raw = bytes(raw)
        for text in texts:
            encoded = text.encode("utf-8")
            assert encoded not in raw, column
            assert encoded.hex().encode() not in raw, column


# --- Translations --------------------------------------------------------------------------


ORDER_PAGE_MESSAGES = [
    PLATFORM_ERROR,
    ACCOUNT_ID_ERROR,
    PHONE_ERROR,
    NOT_HTTPS,
    "Enter the account ID.",
    "Enter your phone number.",
    "Link %(number)d is longer than %(max)d characters.",
    "The note is at most %(max)d characters long.",
    "Please confirm your email address before ordering: open the link we sent you.",
    "Thank you for your order. Please pay by bank transfer as shown below.",
    "Please pay by bank transfer",
    "My orders",
    "You have not ordered anything yet.",
    "Awaiting payment",
]
ORDER_PAGE_PLURAL_MESSAGES = [
    (
        "One https:// link per line, up to %(count)d link.",
        "One https:// link per line, up to %(count)d links.",
    ),
    ("This service takes at most %(count)d photo link.", "This service takes at most %(count)d photo links."),
]


@pytest.mark.parametrize("msgid", ORDER_PAGE_MESSAGES)
def test_the_order_pages_messages_are_translated_into_japanese(msgid):
    ja(msgid)


@pytest.mark.parametrize(("singular", "plural"), ORDER_PAGE_PLURAL_MESSAGES)
def test_the_order_pages_plural_messages_are_translated_into_japanese(singular, plural):
    with translation.override("ja"):
        text = ngettext(singular, plural, 2)
    assert text not in (singular, plural), f"no Japanese translation of {plural!r}"


@pytest.mark.django_db
def test_the_phone_is_shown_in_one_form_however_it_was_typed(client, member, service):
    # Seen: 090-1111-2222 on one order, 09011112222 on the next.
    from kirakira.orders.testing import place_order

    typed = place_order(member=member, service=service, phone="09011112222")
    spaced = place_order(member=member, service=service, phone="＋８１ ９０ １１１１ ２２２２")
    for order in (typed, spaced):
        body = page(client.get(detail_url(order)))
        assert "090-1111-2222" in body, order.phone
