"""A consultation's thread and states: open → answered (a staff reply, emailed) → closed, and
reopened by the member within 30 days of closing. Internal notes are staff-only: never on the
member's pages, in the API or in an email."""

import html
from datetime import UTC, datetime, timedelta

import pytest
from knox.models import AuthToken

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.consultations import services, tokens
from kirakira.consultations.models import AuthorKind, Consultation, Message, Status
from kirakira.consultations.testing import PNG, open_for_member, open_for_visitor, page, said, upload

pytestmark = pytest.mark.django_db

START = datetime(2026, 5, 1, 1, 0, tzinfo=UTC)
SUBJECT = "納品の時期について"
NOTE = "社内メモ：この会員は以前にも返金を求めた"


def detail(consultation) -> str:
    return f"/consultations/{consultation.pk}/"


def admin_change(consultation) -> str:
    return f"/en/backoffice/consultations/consultation/{consultation.pk}/change/"


def api(client, member, path="", method="get", **data):
    _instance, token = AuthToken.objects.create(member)
    call = getattr(client, method)
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if method == "post":
        return call(f"/api/v1/consultations{path}", data, content_type="application/json", **kwargs)
    return call(f"/api/v1/consultations{path}", **kwargs)


@pytest.fixture
def member():
    return MemberFactory(name="山田 花子", email="hanako@example.com")


@pytest.fixture
def staff():
    return StaffFactory(roles=[Role.CUSTOMER_SERVICE])


def status_of(consultation) -> str:
    consultation.refresh_from_db()
    return consultation.status


def test_open_answered_closed_through_the_pages(
    client, member, staff, mailoutbox, django_capture_on_commit_callbacks
):
    consultation = open_for_member(member, subject=SUBJECT, callback_phone="090-1111-2222")
    assert status_of(consultation) == Status.OPEN

    # Staff reply in the back office: answered, and the member gets an email.
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(admin_change(consultation), {"action": "reply", "body": "来週お届けします。"})
    assert response.status_code == 302
    assert status_of(consultation) == Status.ANSWERED
    (mail,) = mailoutbox
    assert mail.to == ["hanako@example.com"]
    assert consultation.reference in mail.subject
    for personal in (SUBJECT, "山田", "花子", "hanako", "090-1111-2222", "来週"):
        assert personal not in mail.subject
    assert f"http://testserver/consultations/{consultation.pk}/" in mail.body
    reply = Message.objects.get(author_kind=AuthorKind.STAFF)
    assert reply.author == staff and not reply.is_internal

    # The member sees it on the list, on my page and in the thread.
    client.force_login(member)
    listing = page(client.get("/consultations/"))
    assert consultation.reference in listing
    assert f"<strong>{said('ja', 'Answered')}</strong>" in listing
    mypage = page(client.get("/accounts/mypage/"))
    assert said("ja", "Our staff have replied to these consultations:") in mypage
    assert detail(consultation) in mypage
    thread = page(client.get(detail(consultation)))
    assert "来週お届けします。" in thread
    assert said("ja", "Kirakira staff") in thread

    # The member answers: open again, and off my page's "replied" list.
    response = client.post(detail(consultation), {"action": "reply", "body": "ありがとうございます。"})
    assert response.status_code == 302
    assert status_of(consultation) == Status.OPEN
    assert detail(consultation) not in page(client.get("/accounts/mypage/"))

    # Staff answer again, then the member closes.
    with django_capture_on_commit_callbacks(execute=True):
        services.staff_reply(consultation_id=consultation.pk, actor=staff, body="承知しました。")
    assert status_of(consultation) == Status.ANSWERED
    assert len(mailoutbox) == 2
    response = client.post(detail(consultation), {"action": "close"})
    assert response.status_code == 302
    assert status_of(consultation) == Status.CLOSED
    assert consultation.closed_at is not None
    closed_page = client.get(detail(consultation))
    assert said("ja", "The consultation is closed. You can reopen it within 30 days.") in page(closed_page)
    assert 'value="reopen"' in page(closed_page)
    assert 'name="body"' not in page(closed_page)


def test_staff_close_and_cannot_reply_to_a_closed_consultation(
    client, member, staff, mailoutbox, django_capture_on_commit_callbacks
):
    consultation = open_for_member(member)
    client.force_login(staff)
    assert client.post(admin_change(consultation), {"action": "close"}).status_code == 302
    assert status_of(consultation) == Status.CLOSED

    # The form offers an internal note; a reply posted anyway is refused with a message.
    assert 'name="internal" id="id_internal" checked' in page(client.get(admin_change(consultation)))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            admin_change(consultation), {"action": "reply", "body": "遅れてすみません"}, follow=True
        )
    assert response.status_code == 200
    assert "This consultation is closed." in page(response)
    assert Message.objects.count() == 1
    assert mailoutbox == []
    assert status_of(consultation) == Status.CLOSED

    # An internal note may still be written; the state stays closed and nobody is mailed.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            admin_change(consultation), {"action": "reply", "body": NOTE, "internal": "on"}
        )
    assert response.status_code == 302
    assert Message.objects.filter(is_internal=True).count() == 1
    assert status_of(consultation) == Status.CLOSED
    assert mailoutbox == []
    # Closing twice is refused.
    with pytest.raises(services.ValidationError) as excinfo:
        services.consultation_close(consultation_id=consultation.pk, actor=staff)
    assert excinfo.value.code == "state"


def test_the_member_cannot_write_in_a_closed_consultation(client, member):
    consultation = open_for_member(member)
    services.consultation_close(consultation_id=consultation.pk, member=member)
    client.force_login(member)

    for path, language in ((detail(consultation), "ja"), (f"/en{detail(consultation)}", "en")):
        response = client.post(path, {"action": "reply", "body": "もう一言", "attachments": [upload()]})
        assert response.status_code == 400
        assert said(language, "This consultation is closed. Reopen it to write again.") in page(response)
    assert Message.objects.count() == 1
    assert status_of(consultation) == Status.CLOSED

    response = api(client, member, f"/{consultation.pk}/messages", "post", body="もう一言")
    assert response.status_code == 400
    assert Message.objects.count() == 1
    with pytest.raises(services.ValidationError) as excinfo:
        services.requester_reply(consultation_id=consultation.pk, body="もう一言", member=member)
    assert excinfo.value.code == "closed"


def test_reopen_within_30_days_and_not_after(client, member):
    with clock.frozen_at(START):
        consultation = open_for_member(member)
        services.consultation_close(consultation_id=consultation.pk, member=member)
        client.force_login(member)

        clock.advance(timedelta(days=30) - timedelta(minutes=1))
        shown = page(client.get(detail(consultation)))
        assert 'value="reopen"' in shown
        response = client.post(detail(consultation), {"action": "reopen"})
        assert response.status_code == 302
        assert status_of(consultation) == Status.OPEN
        assert consultation.closed_at is None
        assert said("ja", "The consultation is open again.") in page(client.get(detail(consultation)))

        # The member can write again.
        assert client.post(detail(consultation), {"action": "reply", "body": "再開します"}).status_code == 302
        assert Message.objects.count() == 2

        # Closed again: the 30 days count from this closing.
        services.consultation_close(consultation_id=consultation.pk, member=member)
        clock.advance(timedelta(days=30))
        shown = page(client.get(detail(consultation)))
        assert 'value="reopen"' not in shown
        assert said("ja", "This consultation is closed.") in shown
        response = client.post(detail(consultation), {"action": "reopen"})
        assert response.status_code == 302
        too_late = "A consultation can be reopened only within 30 days of closing. Please open a new one."
        assert said("ja", too_late) in page(client.get(detail(consultation)))
        assert status_of(consultation) == Status.CLOSED
        english = client.post(f"/en{detail(consultation)}", {"action": "reopen"}, follow=True)
        assert html.escape(too_late) in page(english)
    assert status_of(consultation) == Status.CLOSED


def test_only_a_closed_consultation_can_be_reopened(member):
    consultation = open_for_member(member)
    with pytest.raises(services.ValidationError) as excinfo:
        services.consultation_reopen(consultation_id=consultation.pk, member=member)
    assert excinfo.value.code == "state"
    assert status_of(consultation) == Status.OPEN


def test_internal_notes_are_never_shown_to_the_member(
    client, member, staff, mailoutbox, django_capture_on_commit_callbacks
):
    consultation = open_for_member(member)
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            admin_change(consultation),
            {"action": "reply", "body": NOTE, "internal": "on", "attachments": [upload("memo.png")]},
        )
    assert response.status_code == 302
    note = Message.objects.get(is_internal=True)
    assert note.author_kind == AuthorKind.STAFF
    # No email, and the state is unchanged.
    assert mailoutbox == []
    assert status_of(consultation) == Status.OPEN
    # Staff see it in the back office.
    assert NOTE in page(client.get(admin_change(consultation)))

    with django_capture_on_commit_callbacks(execute=True):
        services.staff_reply(consultation_id=consultation.pk, actor=staff, body="公開の回答です")
    (mail,) = mailoutbox
    assert NOTE not in mail.body and NOTE not in mail.subject
    assert "memo.png" not in mail.body

    client.force_login(member)
    for path in (detail(consultation), "/consultations/", "/accounts/mypage/", f"/en{detail(consultation)}"):
        shown = page(client.get(path))
        assert NOTE not in shown and html.escape(NOTE) not in shown, path
        assert "memo.png" not in shown, path
    assert "公開の回答です" in page(client.get(detail(consultation)))
    file = note.attachments.get()
    assert client.get(f"{detail(consultation)}files/{file.pk}/").status_code == 404

    body = api(client, member, f"/{consultation.pk}").json()
    assert [m["body"] for m in body["messages"]] == ["いつ頃仕上がりますか？", "公開の回答です"]
    assert NOTE not in str(body) and "memo.png" not in str(body)
    assert NOTE not in str(api(client, member).json())


def test_internal_notes_are_never_shown_to_a_visitor(
    client, staff, mailoutbox, django_capture_on_commit_callbacks
):
    consultation = open_for_visitor()
    services.visitor_confirm(consultation.pk)
    with django_capture_on_commit_callbacks(execute=True):
        note = services.staff_reply(
            consultation_id=consultation.pk, actor=staff, body=NOTE, internal=True, files=[upload("memo.png")]
        )
        services.staff_reply(consultation_id=consultation.pk, actor=staff, body="公開の回答です")
    (mail,) = mailoutbox
    assert NOTE not in mail.body
    thread = f"/consultations/visitor/{tokens.thread_token(consultation)}/"
    shown = page(client.get(thread))
    assert "公開の回答です" in shown
    assert NOTE not in shown and "memo.png" not in shown
    assert client.get(f"{thread}files/{note.attachments.get().pk}/").status_code == 404


def test_an_internal_note_does_not_answer_and_a_member_message_reopens_answered(member, staff):
    consultation = open_for_member(member)
    services.staff_reply(consultation_id=consultation.pk, actor=staff, body=NOTE, internal=True)
    assert status_of(consultation) == Status.OPEN
    services.staff_reply(consultation_id=consultation.pk, actor=staff, body="回答")
    assert status_of(consultation) == Status.ANSWERED
    services.staff_reply(consultation_id=consultation.pk, actor=staff, body=NOTE, internal=True)
    assert status_of(consultation) == Status.ANSWERED
    services.requester_reply(consultation_id=consultation.pk, body="追記", member=member)
    assert status_of(consultation) == Status.OPEN


def test_a_staff_attachment_reaches_the_member(client, member, staff, django_capture_on_commit_callbacks):
    consultation = open_for_member(member)
    client.force_login(staff)
    response = client.post(
        admin_change(consultation),
        {"action": "reply", "body": "見積書です", "attachments": [upload("quote.png")]},
    )
    assert response.status_code == 302
    client.force_login(member)
    shown = page(client.get(detail(consultation)))
    assert "quote.png" in shown
    file = Message.objects.get(author_kind=AuthorKind.STAFF).attachments.get()
    download = client.get(f"{detail(consultation)}files/{file.pk}/")
    assert download.status_code == 200 and b"".join(download) == PNG


def test_a_staff_reply_to_a_member_is_in_the_members_language(
    member, staff, mailoutbox, django_capture_on_commit_callbacks
):
    member.language = "en"
    member.save(update_fields=["language"])
    consultation = open_for_member(member, language="ja")
    with django_capture_on_commit_callbacks(execute=True):
        services.staff_reply(consultation_id=consultation.pk, actor=staff, body="reply")
    (mail,) = mailoutbox
    assert mail.subject == f"Kirakira SNS: a reply to your consultation {consultation.reference}"


def test_a_staff_reply_does_not_corrupt_a_concurrent_close(member, staff):
    """The state changes lock the row: a reply that arrives after the member closed is refused
    rather than turning the closed consultation back into "answered"."""
    consultation = open_for_member(member)
    stale = Consultation.objects.get(pk=consultation.pk)  # what staff loaded before the close
    services.consultation_close(consultation_id=consultation.pk, member=member)
    assert stale.status == Status.OPEN
    with pytest.raises(services.ValidationError) as excinfo:
        services.staff_reply(consultation_id=stale.pk, actor=staff, body="遅れた回答")
    assert excinfo.value.code == "closed"
    assert status_of(consultation) == Status.CLOSED
    assert Message.objects.count() == 1


def test_a_reply_sent_from_the_english_back_office_links_in_the_recipients_language(
    client, staff, mailoutbox, django_capture_on_commit_callbacks
):
    visitor = open_for_visitor(language="ja")
    services.visitor_confirm(visitor.pk)
    member = MemberFactory(language="ja")
    own = open_for_member(member)
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        for consultation in (visitor, own):
            client.post(admin_change(consultation), {"action": "reply", "body": "回答"})
    visitor_mail, member_mail = mailoutbox
    assert f"http://testserver/consultations/visitor/{tokens.thread_token(visitor)}/" in visitor_mail.body
    assert f"http://testserver/consultations/{own.pk}/" in member_mail.body
    assert "/en/" not in visitor_mail.body + member_mail.body
