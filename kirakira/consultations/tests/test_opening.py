"""Opening a consultation on the pages: a member's opens at once; a visitor's waits until the
visitor confirms their email address by a single-use, expiring link, and staff see nothing
before. Visitors are rate-limited per address and per email address. Every bad input is a form
error in the page's language, and nothing at all is stored.

Expected messages are taken from the catalogs (``said``), so a rewording of a translation does
not break these tests; the page's language is checked by its ``<html lang>``.
"""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.consultations import selectors, services, tokens
from kirakira.consultations.models import Attachment, AuthorKind, Consultation, Message, Status
from kirakira.consultations.testing import PNG, open_for_member, open_for_visitor, page, said, upload
from kirakira.orders.testing import place_order

pytestmark = pytest.mark.django_db

NEW = "/consultations/new/"
NEW_EN = "/en/consultations/new/"
VISITOR_EMAIL = "hanako@example.net"
VISITOR_NAME = "訪問 花子"
SUBJECT = "納品の時期について"
BODY = "いつ頃仕上がりますか？\n急ぎではありません。"
LINK = re.compile(r"http://testserver(/\S+)")
NOON = datetime(2026, 4, 1, 3, 0, tzinfo=UTC)


def assert_language(response, language: str) -> None:
    assert f'<html lang="{language}">' in page(response)


def stored() -> tuple[int, int, int]:
    return Consultation.objects.count(), Message.objects.count(), Attachment.objects.count()


def member_data(**overrides) -> dict:
    data = {"category": "question", "subject": SUBJECT, "body": BODY}
    data.update(overrides)
    return data


def visitor_data(**overrides) -> dict:
    data = {"name": VISITOR_NAME, "email": VISITOR_EMAIL, **member_data()}
    data.update(overrides)
    return data


def links_in(message) -> list[str]:
    return LINK.findall(message.body)


def confirm_link(message) -> str:
    (link,) = [link for link in links_in(message) if "/consultations/confirm/" in link]
    return link


def thread_link(message) -> str:
    (link,) = [link for link in links_in(message) if "/consultations/visitor/" in link]
    return link


@pytest.fixture
def frozen_clock():
    # Thread links carry the second they were made in; a frozen clock makes two links of the
    # same thread equal, so a test can compare them.
    with clock.frozen_at(NOON):
        yield


def raw_column(consultation, column: str):
    table = Consultation._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [consultation.pk.hex])  # noqa: S608
        row = cursor.fetchone()
        if row is None:  # PostgreSQL stores UUIDs natively
            cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [str(consultation.pk)])  # noqa: S608
            row = cursor.fetchone()
    value = row[0]
    return bytes(value) if isinstance(value, memoryview) else value


def visitor_opens(client, mailoutbox, capture, path=NEW, **overrides):
    with capture(execute=True):
        response = client.post(path, visitor_data(**overrides))
    assert response.status_code == 200, page(response)[:3000]
    return response


# --- members --------------------------------------------------------------------------------------


def test_a_member_opens_a_consultation_about_their_order_with_a_call_back_number(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    member = MemberFactory()
    order = place_order(member=member)
    client.force_login(member)
    form = client.get(NEW)
    assert form.status_code == 200
    assert order.reference in page(form)
    mailoutbox.clear()  # the order's own email

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            NEW,
            member_data(
                category="complaint",
                order=str(order.pk),
                callback_phone="090-1111-2222",
                attachments=[upload()],
            ),
        )

    consultation = Consultation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/consultations/{consultation.pk}/"
    assert consultation.member == member
    assert consultation.status == Status.OPEN
    assert consultation.category == "complaint"
    assert consultation.subject == SUBJECT
    assert consultation.order == order
    assert consultation.callback_phone == "090-1111-2222"
    assert consultation.language == "ja"
    message = Message.objects.get()
    assert (message.author_kind, message.author, message.body, message.is_internal) == (
        AuthorKind.MEMBER,
        member,
        BODY,
        False,
    )
    assert Attachment.objects.get().content == PNG
    assert mailoutbox == []  # a member needs no confirmation

    # Encrypted at rest: neither the number nor the subject is in the table in the clear.
    assert "090-1111-2222" not in str(raw_column(consultation, "callback_phone"))
    assert SUBJECT not in str(raw_column(consultation, "subject"))

    shown = client.get(response["Location"])
    assert_language(shown, "ja")
    body = page(shown)
    for expected in (
        said("ja", "Your consultation has been sent. We will answer here and by email."),
        html.escape(SUBJECT),
        consultation.reference,
        order.reference,
        "090-1111-2222",
        "いつ頃仕上がりますか？<br>急ぎではありません。",
        "photo.png",
    ):
        assert expected in body, expected


def test_the_member_form_offers_only_the_members_own_orders(client):
    member = MemberFactory()
    own = place_order(member=member)
    other = place_order()
    client.force_login(member)
    body = page(client.get(NEW))
    assert own.reference in body and str(own.pk) in body
    assert other.reference not in body and str(other.pk) not in body


@pytest.mark.parametrize(("path", "language"), [(NEW, "ja"), (NEW_EN, "en")])
@pytest.mark.parametrize("has_orders", [True, False], ids=["with-own-orders", "without-orders"])
def test_another_members_order_is_refused_and_nothing_is_stored(
    client, mailoutbox, path, language, has_orders
):
    member = MemberFactory()
    if has_orders:
        place_order(member=member)
    others = place_order()
    client.force_login(member)
    mailoutbox.clear()

    response = client.post(path, member_data(order=str(others.pk), attachments=[upload()]))

    assert response.status_code == 400
    assert_language(response, language)
    assert said(language, "Choose one of your own orders.") in page(response)
    assert stored() == (0, 0, 0)
    assert mailoutbox == []


def test_a_member_is_not_rate_limited(client, settings):
    settings.CONSULTATION_VISITOR_LIMIT_PER_IP = 1
    settings.CONSULTATION_VISITOR_LIMIT_PER_EMAIL = 1
    client.force_login(MemberFactory())
    for _ in range(3):
        assert client.post(NEW, member_data()).status_code == 302
    assert Consultation.objects.count() == 3


def test_a_body_of_exactly_the_maximum_is_accepted(client):
    client.force_login(MemberFactory())
    response = client.post(NEW, member_data(body="あ" * 10_000))
    assert response.status_code == 302
    assert len(Message.objects.get().body) == 10_000


# --- bad input ------------------------------------------------------------------------------------

_BAD = [
    # (what, overrides, field's service message, params)
    ("empty body", {"body": ""}, "Write your message.", {}),
    ("blank body", {"body": " \r\n\t "}, "Write your message.", {}),
    (
        "body just too long",
        {"body": "あ" * 10_001},
        "A message is at most %(max)d characters long.",
        {"max": 10_000},
    ),
    (
        "body of 20,000",
        {"body": "x" * 20_000},
        "A message is at most %(max)d characters long.",
        {"max": 10_000},
    ),
    ("no subject", {"subject": "  "}, "Enter a subject.", {}),
    (
        "subject too long",
        {"subject": "s" * 201},
        "The subject is at most %(max)d characters long.",
        {"max": 200},
    ),
    ("no category", {"category": ""}, "Choose a category.", {}),
    (
        "unknown category",
        {"category": "flattery"},
        "Select a valid choice. %(value)s is not one of the available choices.",
        {"value": "flattery"},
    ),
    (
        "order that does not exist",
        {"order": "00000000-0000-0000-0000-000000000000"},
        "Choose one of your own orders.",
        {},
    ),
    ("order that is not an ID", {"order": "K1234567"}, "Choose one of your own orders.", {}),
]
_VISITOR_BAD = [
    ("no name", {"name": ""}, "Enter your name.", {}),
    ("no email", {"email": ""}, "Enter your email address.", {}),
    ("bad email", {"email": "hanako@"}, "Enter a valid email address.", {}),
]


@pytest.mark.parametrize(("path", "language"), [(NEW, "ja"), (NEW_EN, "en")])
@pytest.mark.parametrize(("what", "overrides", "msgid", "params"), _BAD, ids=[b[0] for b in _BAD])
def test_a_members_bad_input_is_a_form_error_and_nothing_is_stored(
    client, mailoutbox, path, language, what, overrides, msgid, params
):
    member = MemberFactory()
    place_order(member=member)  # so that the form has its order field
    client.force_login(member)
    mailoutbox.clear()

    response = client.post(path, member_data(attachments=[upload()], **overrides))

    assert response.status_code == 400
    assert_language(response, language)
    assert said(language, msgid, **params) in page(response)
    assert stored() == (0, 0, 0)
    assert mailoutbox == []


@pytest.mark.parametrize(("path", "language"), [(NEW, "ja"), (NEW_EN, "en")])
@pytest.mark.parametrize(
    ("what", "overrides", "msgid", "params"),
    [b for b in _BAD if "order" not in b[0]] + _VISITOR_BAD,
    ids=[b[0] for b in _BAD if "order" not in b[0]] + [b[0] for b in _VISITOR_BAD],
)
def test_a_visitors_bad_input_is_a_form_error_and_nothing_is_stored(
    client, mailoutbox, django_capture_on_commit_callbacks, path, language, what, overrides, msgid, params
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path, visitor_data(attachments=[upload()], **overrides))

    assert response.status_code == 400
    assert_language(response, language)
    assert said(language, msgid, **params) in page(response)
    assert stored() == (0, 0, 0)
    assert mailoutbox == []


def test_a_visitor_cannot_name_an_order(client, mailoutbox, django_capture_on_commit_callbacks):
    order = place_order()
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(NEW, visitor_data(order=str(order.pk)))
    assert response.status_code == 400
    assert said("ja", "Choose one of your own orders.") in page(response)
    assert stored() == (0, 0, 0)
    assert mailoutbox == []


def test_a_bad_attachment_stores_nothing_either(client):
    client.force_login(MemberFactory())
    response = client.post(
        NEW, member_data(attachments=[upload(), upload("notes.png", b"just text", "image/png")])
    )
    assert response.status_code == 400
    assert "notes.png" in page(response)
    assert stored() == (0, 0, 0)


# --- visitors -------------------------------------------------------------------------------------


def test_a_visitor_opens_a_consultation_and_is_asked_to_confirm(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    response = visitor_opens(
        client, mailoutbox, django_capture_on_commit_callbacks, callback_phone="03-1234-5678"
    )

    consultation = Consultation.objects.get()
    assert_language(response, "ja")
    assert said(
        "ja",
        "We have sent you an email with a link. Your consultation reaches our staff once you open the link and confirm.",
    ) in page(response)
    assert consultation.reference in page(response)
    assert consultation.member is None
    assert consultation.status == Status.AWAITING_CONFIRMATION
    assert consultation.confirmed_at is None
    assert (consultation.visitor_name, consultation.visitor_email) == (VISITOR_NAME, VISITOR_EMAIL)
    assert consultation.callback_phone == "03-1234-5678"
    assert consultation.language == "ja"
    assert VISITOR_EMAIL not in str(raw_column(consultation, "visitor_email"))
    message = Message.objects.get()
    assert (message.author_kind, message.author, message.body) == (AuthorKind.VISITOR, None, BODY)

    (mail,) = mailoutbox
    assert mail.to == [VISITOR_EMAIL]
    assert consultation.reference in mail.subject
    for personal in (VISITOR_NAME, "花子", "hanako", SUBJECT, "03-1234-5678"):
        assert personal not in mail.subject
    assert VISITOR_NAME in mail.body
    # The link's token is this consultation's (read back: its timestamp is the sending second).
    link = confirm_link(mail)
    assert link.startswith("/consultations/confirm/")
    assert tokens.read_confirmation_token(link.split("/")[-2]) == str(consultation.pk)


def test_a_visitor_may_type_the_email_address_in_full_width_as_registration_allows(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    # Seen: registration accepted ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｃｏｍ, the visitor's form refused it.
    typed = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in VISITOR_EMAIL)
    assert typed != VISITOR_EMAIL
    visitor_opens(client, mailoutbox, django_capture_on_commit_callbacks, email=f" {typed} ")
    assert Consultation.objects.get().visitor_email == VISITOR_EMAIL
    (mail,) = mailoutbox
    assert mail.to == [VISITOR_EMAIL]


def test_a_visitor_writing_under_en_gets_english_pages_and_email(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    response = visitor_opens(client, mailoutbox, django_capture_on_commit_callbacks, path=NEW_EN)
    assert_language(response, "en")
    assert "Please confirm your email address" in page(response)
    consultation = Consultation.objects.get()
    assert consultation.language == "en"
    (mail,) = mailoutbox
    assert mail.subject == f"Kirakira SNS: please confirm your email address ({consultation.reference})"
    assert "please confirm your email address by opening this link" in mail.body


def test_staff_do_not_see_a_visitors_consultation_before_it_is_confirmed(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    visitor_opens(client, mailoutbox, django_capture_on_commit_callbacks)
    consultation = Consultation.objects.get()
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    client.force_login(staff)

    assert list(selectors.for_staff(staff)) == []
    listing = client.get("/en/backoffice/consultations/consultation/")
    assert listing.status_code == 200
    assert consultation.reference not in page(listing)
    change = f"/en/backoffice/consultations/consultation/{consultation.pk}/change/"
    assert client.get(change)["Location"] == "/en/backoffice/"
    with pytest.raises(services.ValidationError):
        services.staff_reply(consultation_id=consultation.pk, actor=staff, body="先に答えます")
    assert Message.objects.count() == 1

    client.logout()
    confirm = confirm_link(mailoutbox[0])
    assert client.post(confirm).status_code == 302

    client.force_login(staff)
    assert list(selectors.for_staff(staff)) == [consultation]
    assert consultation.reference in page(client.get("/en/backoffice/consultations/consultation/"))
    assert client.get(change).status_code == 200


def test_the_confirmation_link_shows_a_button_and_works_once(
    client, mailoutbox, django_capture_on_commit_callbacks, frozen_clock
):
    visitor_opens(client, mailoutbox, django_capture_on_commit_callbacks)
    consultation = Consultation.objects.get()
    link = confirm_link(mailoutbox[0])
    mailoutbox.clear()

    # A GET (as a mail scanner fetching the link does) confirms nothing.
    shown = client.get(link)
    assert shown.status_code == 200
    assert said("ja", "Confirm and send") in page(shown)
    consultation.refresh_from_db()
    assert consultation.status == Status.AWAITING_CONFIRMATION

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(link)
    assert response.status_code == 302
    # It leads to the visitor's own thread.
    location = response["Location"]
    assert location.startswith("/consultations/visitor/")
    assert tokens.read_thread_token(location.split("/")[-2]) == str(consultation.pk)
    consultation.refresh_from_db()
    assert consultation.status == Status.OPEN
    assert consultation.confirmed_at is not None
    (received,) = mailoutbox
    assert received.to == [VISITOR_EMAIL]
    assert consultation.reference in received.subject
    assert VISITOR_NAME not in received.subject and SUBJECT not in received.subject
    assert thread_link(received) == response["Location"]
    # Seen: the thread then showed no word of success, nor that its address is a private link.
    thread = page(client.get(location))
    assert said(
        "ja",
        "Thank you: your consultation has reached our staff. This page is your private link to it, where "
        "their replies appear: bookmark it or keep the email we sent you, and do not share it.",
    ) in thread

    used = said("ja", "This link has already been used. Your consultation was received.")
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(link)
    assert again.status_code == 400
    assert used in page(again)
    shown_again = client.get(link)
    assert shown_again.status_code == 400
    assert used in page(shown_again)
    assert len(mailoutbox) == 1  # no second "received" email
    consultation.refresh_from_db()
    assert consultation.status == Status.OPEN

    english = client.post(f"/en{link}")
    assert english.status_code == 400
    assert "This link has already been used. Your consultation was received." in page(english)


def test_the_confirmation_link_expires(client, mailoutbox, django_capture_on_commit_callbacks, settings):
    settings.CONSULTATION_CONFIRMATION_TIMEOUT = 2 * 60 * 60
    expired = said("ja", "This link has expired. Please send your consultation again.")
    with clock.frozen_at(NOON):
        visitor_opens(client, mailoutbox, django_capture_on_commit_callbacks)
        second = open_for_visitor(visitor_email="jiro@example.net")
        link = confirm_link(mailoutbox[0])
        late_link = f"/consultations/confirm/{tokens.confirmation_token(second)}/"

        clock.advance(timedelta(hours=2) - timedelta(seconds=1))
        assert client.get(link).status_code == 200
        assert client.post(link).status_code == 302  # just in time

        clock.advance(timedelta(seconds=2))
        shown = client.get(late_link)
        assert shown.status_code == 400
        assert expired in page(shown)
        response = client.post(late_link)
        assert response.status_code == 400
        assert expired in page(response)
        english = client.post(f"/en{late_link}")
        assert "This link has expired. Please send your consultation again." in page(english)

    second.refresh_from_db()
    assert second.status == Status.AWAITING_CONFIRMATION
    assert second.confirmed_at is None


def _tampered(token: str) -> str:
    last = token[-1]
    return token[:-1] + ("A" if last != "A" else "B")


@pytest.mark.parametrize(
    "make_link",
    [
        lambda c: (
            tokens.confirmation_token(c)[:-1] + ("A" if tokens.confirmation_token(c)[-1] != "A" else "B")
        ),
        lambda c: tokens.confirmation_token(c).replace(str(c.pk), "00000000-0000-0000-0000-000000000000"),
        lambda c: tokens.thread_token(c),  # a thread link is not a confirmation link
        lambda c: str(c.pk),
        lambda c: "x",
    ],
    ids=["bad-signature", "other-id", "thread-token", "bare-id", "garbage"],
)
def test_a_tampered_confirmation_link_is_refused(client, make_link):
    consultation = open_for_visitor()
    link = f"/consultations/confirm/{make_link(consultation)}/"
    invalid = said("ja", "This link is not valid. Please check that you copied all of it.")
    shown = client.get(link)
    assert shown.status_code == 400
    assert invalid in page(shown)
    response = client.post(link)
    assert response.status_code == 400
    assert invalid in page(response)
    consultation.refresh_from_db()
    assert consultation.status == Status.AWAITING_CONFIRMATION


def test_the_visitor_follows_the_thread_link_replies_closes_and_reopens(
    client, mailoutbox, django_capture_on_commit_callbacks, frozen_clock
):
    visitor_opens(client, mailoutbox, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(confirm_link(mailoutbox[0]))
    consultation = Consultation.objects.get()
    thread = thread_link(mailoutbox[1])

    shown = client.get(thread)
    assert shown.status_code == 200
    assert html.escape(SUBJECT) in page(shown)
    assert "いつ頃仕上がりますか？" in page(shown)

    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    with django_capture_on_commit_callbacks(execute=True):
        services.staff_reply(consultation_id=consultation.pk, actor=staff, body="来週お届けします。")
    reply_mail = mailoutbox[2]
    assert reply_mail.to == [VISITOR_EMAIL]
    assert consultation.reference in reply_mail.subject
    assert SUBJECT not in reply_mail.subject and VISITOR_NAME not in reply_mail.subject
    assert thread_link(reply_mail) == thread
    assert "来週お届けします。" in page(client.get(thread))

    response = client.post(
        thread, {"action": "reply", "body": "ありがとうございます。", "attachments": [upload()]}
    )
    assert response.status_code == 302 and response["Location"] == thread
    latest = Message.objects.filter(consultation=consultation).order_by("-created_at").first()
    assert (latest.author_kind, latest.body, latest.author) == (
        AuthorKind.VISITOR,
        "ありがとうございます。",
        None,
    )
    consultation.refresh_from_db()
    assert consultation.status == Status.OPEN
    file = Attachment.objects.get()
    download = client.get(f"{thread}files/{file.pk}/")
    assert download.status_code == 200 and b"".join(download) == PNG

    assert client.post(thread, {"action": "close"}).status_code == 302
    consultation.refresh_from_db()
    assert consultation.status == Status.CLOSED
    refused = client.post(thread, {"action": "reply", "body": "もう一つ"})
    assert refused.status_code == 400
    assert said("ja", "This consultation is closed. Reopen it to write again.") in page(refused)
    assert "もう一つ" not in [m.body for m in Message.objects.all()]

    assert client.post(thread, {"action": "reopen"}).status_code == 302
    consultation.refresh_from_db()
    assert consultation.status == Status.OPEN
    assert consultation.closed_at is None


def test_a_thread_link_works_only_for_a_confirmed_visitor_and_untampered(client):
    pending = open_for_visitor()
    assert client.get(f"/consultations/visitor/{tokens.thread_token(pending)}/").status_code == 404
    services.visitor_confirm(pending.pk)
    token = tokens.thread_token(pending)
    assert client.get(f"/consultations/visitor/{token}/").status_code == 200
    assert client.get(f"/consultations/visitor/{_tampered(token)}/").status_code == 404
    confirmation = tokens.confirmation_token(pending)
    assert client.get(f"/consultations/visitor/{confirmation}/").status_code == 404
    assert client.post(f"/consultations/visitor/{_tampered(token)}/", {"body": "x"}).status_code == 404
    # A member's consultation has no visitor link.
    members = open_for_member()
    assert client.get(f"/consultations/visitor/{tokens.thread_token(members)}/").status_code == 404
    assert "x" not in [m.body for m in Message.objects.all()]


# --- rate limits ----------------------------------------------------------------------------------


def test_visitors_are_limited_per_address(client, mailoutbox, django_capture_on_commit_callbacks, settings):
    settings.CONSULTATION_VISITOR_LIMIT_PER_IP = 2
    settings.CONSULTATION_VISITOR_LIMIT_PER_EMAIL = 100
    flood = {"REMOTE_ADDR": "198.51.100.20"}
    limited = "Too many consultations were sent from your network. Please try again in an hour, or log in."
    with clock.frozen_at(NOON):
        with django_capture_on_commit_callbacks(execute=True):
            for n in range(2):
                response = client.post(NEW, visitor_data(email=f"v{n}@example.net"), **flood)
                assert response.status_code == 200
        before = stored()
        assert before == (2, 2, 0)

        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(NEW, visitor_data(email="v3@example.net", attachments=[upload()]), **flood)
            english = client.post(NEW_EN, visitor_data(email="v4@example.net"), **flood)
        assert response.status_code == 429
        assert said("ja", limited) in page(response)
        assert english.status_code == 429
        assert_language(english, "en")
        assert html.escape(limited) in page(english)
        assert stored() == before
        assert len(mailoutbox) == 2

        # Another address is not held back by this one.
        other = client.post(NEW, visitor_data(email="v5@example.net"), REMOTE_ADDR="198.51.100.21")
        assert other.status_code == 200

        clock.advance(timedelta(hours=1))
        later = client.post(NEW, visitor_data(email="v6@example.net"), **flood)
        assert later.status_code == 200
    assert Consultation.objects.count() == 4


def test_visitors_are_limited_per_email_address(
    client, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.CONSULTATION_VISITOR_LIMIT_PER_IP = 100
    settings.CONSULTATION_VISITOR_LIMIT_PER_EMAIL = 2
    with clock.frozen_at(NOON):
        for n, email in enumerate(["hanako@example.net", " Hanako@EXAMPLE.net "]):
            response = client.post(NEW, visitor_data(email=email), REMOTE_ADDR=f"192.0.2.{n + 1}")
            assert response.status_code == 200
        response = client.post(NEW, visitor_data(email="HANAKO@example.net"), REMOTE_ADDR="192.0.2.9")
        assert response.status_code == 429
        assert said(
            "ja",
            "Too many consultations were sent for this email address. Please try again in an hour, or log in.",
        ) in page(response)
        assert Consultation.objects.count() == 2
        assert (
            client.post(NEW, visitor_data(email="jiro@example.net"), REMOTE_ADDR="192.0.2.9").status_code
            == 200
        )
    assert Consultation.objects.count() == 3


def test_invalid_attempts_do_not_use_up_the_limit(client, settings):
    settings.CONSULTATION_VISITOR_LIMIT_PER_IP = 1
    for _ in range(3):
        assert client.post(NEW, visitor_data(body="")).status_code == 400
    assert client.post(NEW, visitor_data()).status_code == 200
    assert client.post(NEW, visitor_data(email="x@example.net")).status_code == 429
