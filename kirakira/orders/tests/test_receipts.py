"""Receipts (領収書) as PDF: the fields a receipt and a qualified invoice must carry, read back from
the PDF's text (pypdf) in ja, en and ko; the tax arithmetic; reissues marked; who gets one (paid in
full and not cancelled, the member's own order); the API's content type and JSON errors; the
number of queries; the configuration check."""

import io
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils import formats, timezone, translation
from django.utils.translation import pgettext
from knox.models import AuthToken
from pypdf import PdfReader

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.orders import lifecycle, receipts
from kirakira.orders.models import OrderStatus, Receipt, ReceiptChannel
from kirakira.orders.testing import REFUND_ACCOUNT, make_service, place_order, record_payment

pytestmark = pytest.mark.django_db

NUMBER = "T1234567890123"
NAME = "山田 花子"


@pytest.fixture(autouse=True)
def _unregistered(settings):
    settings.INVOICE_REGISTRATION_NUMBER = ""
    settings.CONSUMPTION_TAX_RATE_PERCENT = 10


@pytest.fixture
def member():
    return MemberFactory(name=NAME)


def paid_order(member, price=5500, **service):
    order = place_order(member=member, service=make_service(price_yen=price, **service))
    record_payment(order)
    order.refresh_from_db()
    return order


def text_of(content: bytes) -> str:
    """The PDF's text as pypdf extracts it, spaces folded (fonts change mid-line)."""
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"[ \t]+", " ", text)


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def tr(language: str, message: str, **params) -> str:
    with translation.override(language):
        text = pgettext("receipt", message)
    return text % params if params else text


def yen(language: str, amount: int) -> str:
    with translation.override(language):
        return translation.gettext("¥%(amount)s") % {"amount": f"{amount:,}"}


def download(client, order, prefix=""):
    return client.get(f"{prefix}/orders/{order.pk}/receipt.pdf")


# --- Arithmetic ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "tax"), [(5500, 500), (3333, 303), (1, 0), (11, 1), (110, 10), (109, 9), (3000, 272)]
)
def test_the_tax_in_a_tax_inclusive_total_is_rounded_down_once(total, tax):
    assert receipts.tax_included(total, 10) == tax


def test_the_tax_rate_comes_from_the_settings(settings, member):
    settings.CONSUMPTION_TAX_RATE_PERCENT = 8
    order = paid_order(member, price=1080)
    receipt = receipts.receipt_issue(order_id=order.pk, member=member, channel=ReceiptChannel.WEB)
    assert (receipt.tax_rate_percent, receipt.tax_yen) == (8, 80)


# --- What the PDF says ----------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "prefix"), [("ja", ""), ("en", "/en"), ("ko", "/ko")])
def test_an_ordinary_receipt_carries_its_fields_in_the_pages_language(client, member, language, prefix):
    order = paid_order(member, price=5500)
    client.force_login(member)
    response = download(client, order, prefix)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="receipt-{order.reference}.pdf"'
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    text = flat(text_of(response.content))
    receipt = Receipt.objects.get(order=order)
    for expected in (
        tr(language, "Receipt"),
        tr(language, "To: %(name)s", name=NAME),
        tr(language, "No. %(number)s", number=receipt.number),
        yen(language, 5500),
        tr(
            language,
            "For %(service)s",
            service={"ja": "写真レタッチ", "en": "Photo retouch", "ko": "사진 보정"}[language],
        ),
        tr(language, "Including consumption tax (%(rate)d%%)", rate=10),
        yen(language, 500),
        order.reference,
        "pretostudio",
    ):
        assert flat(expected) in text, (language, expected, text)
    # No claim to be a qualified invoice without a registration number.
    assert flat(tr(language, "(qualified invoice)")) not in text
    assert "T1" not in text and flat(tr(language, "Registration number: %(number)s", number="")) not in text
    assert flat(tr(language, "Reissue")) not in text


def test_the_receipt_is_titled_and_addressed_as_a_japanese_receipt(client, member):
    order = paid_order(member, price=5500)
    client.force_login(member)
    text = flat(text_of(download(client, order).content))
    assert "領収書" in text
    assert f"{flat(NAME)}様" in text
    assert "内消費税" in text
    assert "5,500円" in text and "500円" in text
    assert "但し" in text


@pytest.mark.parametrize("language", ["ja", "en", "ko"])
def test_a_qualified_invoice_carries_the_registration_number_and_the_tax_per_rate(
    client, member, settings, language
):
    settings.INVOICE_REGISTRATION_NUMBER = NUMBER
    order = paid_order(member, price=3333)
    client.force_login(member)
    prefix = "" if language == "ja" else f"/{language}"
    text = flat(text_of(download(client, order, prefix).content))
    for expected in (
        tr(language, "(qualified invoice)"),
        tr(language, "Registration number: %(number)s", number=NUMBER),
        settings.STUDIO_NAME,
        tr(language, "Total subject to %(rate)d%% tax", rate=10),
        yen(language, 3333),
        tr(language, "Consumption tax (%(rate)d%%)", rate=10),
        yen(language, 303),
        tr(language, "To: %(name)s", name=NAME),
        tr(language, "Date of the transaction"),
    ):
        assert flat(expected) in text, (language, expected, text)
    with translation.override(language):
        assert flat(formats.date_format(Receipt.objects.get().transaction_date, "DATE_FORMAT")) in text


def test_a_korean_name_on_a_japanese_receipt_and_a_japanese_one_on_a_korean_receipt_are_drawn(client, member):
    korean = MemberFactory(name="김민수")
    order = paid_order(korean, price=5500)
    client.force_login(korean)
    assert "김민수様" in flat(text_of(download(client, order).content))  # Nanum beside IPAex
    order = paid_order(member, price=5500)
    client.force_login(member)
    text = flat(text_of(download(client, order, "/ko").content))
    assert f"{flat(NAME)}귀하" in text and "영수증" in text  # IPAex beside Nanum


def test_without_the_font_files_the_built_in_fonts_draw_the_receipt(client, member, settings):
    settings.RECEIPT_FONT_JA = "/nonexistent/ja.ttf"
    settings.RECEIPT_FONT_KO = "/nonexistent/ko.ttf"
    order = paid_order(member)
    client.force_login(member)
    response = download(client, order)
    assert response.status_code == 200
    assert flat(NAME) + "様" in flat(text_of(response.content))
    response = download(client, order, "/ko")
    assert response.status_code == 200
    assert "재발행" in flat(text_of(response.content))


# --- Reissues -------------------------------------------------------------------------------------


def test_every_later_download_is_a_reissue_naming_the_original(client, member, settings):
    settings.INVOICE_REGISTRATION_NUMBER = NUMBER
    order = paid_order(member)
    client.force_login(member)
    first = download(client, order)
    settings.INVOICE_REGISTRATION_NUMBER = ""  # a reissue repeats what the original said
    second = download(client, order, "/en")
    third = download(client, order)
    assert "Reissue" not in text_of(first.content) and "再発行" not in text_of(first.content)
    original = Receipt.objects.get(order=order, sequence=1)
    assert [r.sequence for r in Receipt.objects.filter(order=order)] == [1, 2, 3]
    assert second["Content-Disposition"] == f'attachment; filename="receipt-{order.reference}-2.pdf"'
    english = flat(text_of(second.content))
    assert "Reissue" in english
    assert flat(f"receipt No. {original.number}") in english
    assert flat(f"Registration number: {NUMBER}") in english
    japanese = flat(text_of(third.content))
    assert "再発行" in japanese and original.number in japanese
    reissue = Receipt.objects.get(order=order, sequence=3)
    assert (reissue.number, reissue.registration_number, reissue.amount_yen, reissue.tax_yen) == (
        original.number,
        NUMBER,
        original.amount_yen,
        original.tax_yen,
    )
    assert reissue.addressee == NAME
    assert {r.channel for r in Receipt.objects.filter(order=order)} == {ReceiptChannel.WEB}


def test_the_addressee_is_stored_encrypted(member):
    order = paid_order(member)
    receipt = receipts.receipt_issue(order_id=order.pk, member=member, channel=ReceiptChannel.WEB)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT addressee FROM orders_receipt WHERE id = %s", [receipt.pk.hex])
        row = cursor.fetchone()
        if row is None:  # PostgreSQL keeps UUIDs as such
            cursor.execute("SELECT addressee FROM orders_receipt WHERE id = %s", [str(receipt.pk)])
            row = cursor.fetchone()
    raw = bytes(row[0])
    assert raw and NAME.encode() not in raw


# --- Who gets one ---------------------------------------------------------------------------------


def test_an_order_awaiting_payment_gets_no_receipt_but_the_reason(client, member):
    order = place_order(member=member, service=make_service(price_yen=5500))
    record_payment(order, amount=5000)  # part of it
    client.force_login(member)
    response = download(client, order)
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "領収書は、このご注文のお振込みを全額確認した後にダウンロードできます。" in page
    assert not Receipt.objects.exists()


def test_a_cancelled_order_gets_no_receipt_even_after_one_was_issued(client, member):
    order = paid_order(member)
    receipts.receipt_issue(order_id=order.pk, member=member, channel=ReceiptChannel.WEB)
    lifecycle.order_cancel(
        order_id=order.pk, member=member, reason="changed my mind", refund_account=REFUND_ACCOUNT
    )
    client.force_login(member)
    response = download(client, order, "/en")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "This order was cancelled, so no receipt is issued for it." in page
    assert 'id="receipt"' not in page
    assert Receipt.objects.count() == 1


def test_an_overpaid_order_receipt_is_for_the_price_only(member):
    order = place_order(member=member, service=make_service(price_yen=5500))
    record_payment(order, amount=6000)
    receipt = receipts.receipt_issue(order_id=order.pk, member=member, channel=ReceiptChannel.WEB)
    assert (receipt.amount_yen, receipt.tax_yen) == (5500, 500)


def test_the_transaction_date_is_the_day_the_price_was_reached(member):
    order = place_order(member=member, service=make_service(price_yen=5500))
    accountant = StaffFactory(roles=[Role.ACCOUNTING])
    today = timezone.localdate(clock.now())
    for amount, days_ago in ((2000, 5), (3500, 3), (1000, 1)):  # the last one is an overpayment
        lifecycle.payment_record(
            order_id=order.pk,
            amount_yen=amount,
            received_on=today - timedelta(days=days_ago),
            payer_name="ヤマダ ハナコ",
            actor=accountant,
        )
    receipt = receipts.receipt_issue(order_id=order.pk, member=member, channel=ReceiptChannel.WEB)
    assert receipt.transaction_date == today - timedelta(days=3)


def test_another_members_order_is_not_found(client, member):
    order = paid_order(member)
    client.force_login(MemberFactory())
    assert download(client, order).status_code == 404
    with pytest.raises(ValidationError) as caught:
        receipts.receipt_issue(order_id=order.pk, member=MemberFactory(), channel=ReceiptChannel.WEB)
    assert caught.value.code == "not_found"
    assert not Receipt.objects.exists()


def test_a_visitor_is_sent_to_log_in(client, member):
    order = paid_order(member)
    response = download(client, order)
    assert response.status_code == 302
    assert not Receipt.objects.exists()


@pytest.mark.parametrize("status", [OrderStatus.PAID, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED])
def test_the_order_page_offers_the_receipt_in_every_paid_state(client, member, status):
    order = paid_order(member)
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    if status != OrderStatus.PAID:
        lifecycle.order_advance(order_id=order.pk, step="start", actor=staff)
    if status == OrderStatus.COMPLETED:
        lifecycle.order_advance(order_id=order.pk, step="complete", actor=staff)
    client.force_login(member)
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert f'href="/orders/{order.pk}/receipt.pdf"' in page


def test_the_order_page_says_when_the_receipt_will_be_available(client, member):
    order = place_order(member=member)
    client.force_login(member)
    page = client.get(f"/ko/orders/{order.pk}/").content.decode()
    assert "receipt.pdf" not in page
    with translation.override("ko"):
        assert (
            translation.gettext(
                "A receipt can be downloaded once your transfer for this order has arrived in full."
            )
            in page
        )


# --- API ------------------------------------------------------------------------------------------


def bearer(member) -> dict:
    _row, token = AuthToken.objects.create(user=member)
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_the_api_sends_the_pdf_in_the_requests_language(client, member):
    order = paid_order(member)
    response = client.get(
        f"/api/v1/orders/{order.pk}/receipt",
        HTTP_ACCEPT="application/pdf",
        HTTP_ACCEPT_LANGUAGE="ko",
        **bearer(member),
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="receipt-{order.reference}.pdf"'
    assert response["Cache-Control"] == "private, no-store"
    assert response.content.startswith(b"%PDF-")
    assert flat(tr("ko", "To: %(name)s", name=NAME)) in flat(text_of(response.content))
    assert Receipt.objects.get().channel == ReceiptChannel.API


def test_the_api_refuses_an_unpaid_order_with_json(client, member):
    order = place_order(member=member)
    response = client.get(
        f"/api/v1/orders/{order.pk}/receipt",
        HTTP_ACCEPT="application/pdf",
        HTTP_ACCEPT_LANGUAGE="en",
        **bearer(member),
    )
    assert response.status_code == 409
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "message": "A receipt can be downloaded once your transfer for this order has arrived in full.",
        "errors": {},
    }


def test_the_api_refuses_a_cancelled_order_with_json_in_japanese(client, member):
    order = place_order(member=member)
    lifecycle.order_cancel(order_id=order.pk, member=member, reason="やめます")
    response = client.get(f"/api/v1/orders/{order.pk}/receipt", HTTP_ACCEPT_LANGUAGE="ja", **bearer(member))
    assert response.status_code == 409
    assert response.json()["message"] == "このご注文はキャンセルされたため、領収書は発行されません。"


@pytest.mark.parametrize("order_id", ["other", "not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_the_api_answers_404_as_json_for_anything_not_the_callers(client, member, order_id):
    other = paid_order(MemberFactory())
    path_id = str(other.pk) if order_id == "other" else order_id
    response = client.get(
        f"/api/v1/orders/{path_id}/receipt", HTTP_ACCEPT="application/pdf", **bearer(member)
    )
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"message", "errors"}


def test_the_api_without_a_token_is_401_json(client, member):
    order = paid_order(member)
    response = client.get(f"/api/v1/orders/{order.pk}/receipt")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"


def test_the_schema_documents_the_receipt():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/orders/{order_id}/receipt"]["get"]
    assert set(operation["responses"]) == {"200", "401", "404", "409"}
    assert list(operation["responses"]["200"]["content"]) == ["application/pdf"]
    assert operation["responses"]["200"]["content"]["application/pdf"]["schema"] == {
        "type": "string",
        "format": "binary",
    }
    assert "application/json" in operation["responses"]["409"]["content"]


# --- Queries --------------------------------------------------------------------------------------


def test_a_download_makes_a_bounded_number_of_queries(client, member, django_assert_max_num_queries):
    order = paid_order(member)
    client.force_login(member)
    download(client, order)
    for _ in range(3):  # a reissue costs what the original did, however many came before
        with django_assert_max_num_queries(14):
            assert download(client, order).status_code == 200


# --- Configuration --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number", ["T123456789012", "1234567890123", "t1234567890123", "T1234-567890123", "Ｔ1234567890123"]
)
def test_a_malformed_registration_number_fails_the_check(settings, number):
    settings.INVOICE_REGISTRATION_NUMBER = number
    assert [p.id for p in receipts.check_receipt_settings()] == ["kirakira.orders.E001"]
    with pytest.raises(SystemCheckError, match="INVOICE_REGISTRATION_NUMBER"):
        call_command("check", stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.parametrize("number", ["", NUMBER])
def test_a_well_formed_or_empty_registration_number_passes(settings, number):
    settings.INVOICE_REGISTRATION_NUMBER = number
    assert receipts.check_receipt_settings() == []


@pytest.mark.parametrize("rate", [0, 100, -1])
def test_a_tax_rate_out_of_range_fails_the_check(settings, rate):
    settings.CONSUMPTION_TAX_RATE_PERCENT = rate
    assert [p.id for p in receipts.check_receipt_settings()] == ["kirakira.orders.E002"]
