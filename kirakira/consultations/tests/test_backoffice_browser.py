"""A consultation's back-office page in a real browser: the reply (with an attachment), the
internal note and the close button each do what they say.

The page sits inside Django admin's change page, whose own read-only ``<form>`` wraps the
fieldsets. A browser drops a ``<form>`` nested in another, so forms placed inside it would post
the admin form instead (without the file, and with every hidden ``action`` of the page): only a
real browser shows that, the test client posts whatever it is given.
"""

import pytest
from django.core import mail

from kirakira.common.roles import Role
from kirakira.common.testing import PASSWORD, MemberFactory, StaffFactory
from kirakira.consultations.models import AuthorKind, Message, Status
from kirakira.consultations.testing import PNG, open_for_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_reply_with_a_file_write_a_note_and_close_in_the_browser(
    open_page, live_server, settings, tmp_path
):
    from playwright.sync_api import expect

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = live_server.url
    settings.CLAMAV_SOCKET = ""
    photo = tmp_path / "photo.png"
    photo.write_bytes(PNG)
    member = MemberFactory(email="hanako@example.com")
    consultation = open_for_member(member, category="question")
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    change = f"/en/backoffice/consultations/consultation/{consultation.pk}/change/"

    page, _context = open_page(f"/en/backoffice/login/?next={change}", locale="en-US")
    csp_violations = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and csp_violations.append(message.text),
    )
    page.locator("#id_username").fill(staff.login_id)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Reply or internal note")).to_be_visible()
    assert page.url == live_server.url + change

    # A reply with a file: stored as the staff's message with its attachment, the consultation
    # answered (not closed) and the member emailed.
    page.get_by_label("Message").fill("来週お届けします。")
    page.get_by_label("Attachments").set_input_files(str(photo))
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".messagelist")).to_be_visible()
    consultation.refresh_from_db()
    assert consultation.status == Status.ANSWERED
    reply = Message.objects.get(author_kind=AuthorKind.STAFF)
    assert (reply.author, reply.is_internal, reply.body) == (staff, False, "来週お届けします。")
    (attachment,) = reply.attachments.all()
    assert (attachment.filename, bytes(attachment.content)) == ("photo.png", PNG)
    (notification,) = mail.outbox
    assert notification.to == ["hanako@example.com"]
    expect(page.locator(".messagelist")).to_have_text("The reply is sent.")
    # Each of the page's forms posts only its own fields, the admin's form none of them.
    owners = page.evaluate(
        "() => [...document.querySelectorAll('[name=action], [name=body], [type=file]')]"
        ".map(field => [field.name, field.form && field.form.id])"
    )
    assert owners == [
        ["action", "reply-form"],
        ["body", "reply-form"],
        ["attachments", "reply-form"],
        ["action", "close-form"],
    ]
    with page.expect_download() as download_info:
        page.get_by_role("link", name="photo.png").click()
    assert open(download_info.value.path(), "rb").read() == PNG

    # An internal note: saved, nobody mailed, the state unchanged.
    page.get_by_label("Message").fill("社内メモ：写真は確認済み")
    page.get_by_label("Internal note").check()
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".messagelist")).to_have_text("The internal note is saved.")
    note = Message.objects.get(is_internal=True)
    assert (note.author, note.body) == (staff, "社内メモ：写真は確認済み")
    consultation.refresh_from_db()
    assert consultation.status == Status.ANSWERED
    assert len(mail.outbox) == 1
    expect(page.locator(".internal-note")).to_contain_text("社内メモ：写真は確認済み")

    # Closing: closed, and no message written by it.
    page.get_by_role("button", name="Close the consultation").click()
    expect(page.locator(".messagelist")).to_have_text("The consultation is closed.")
    consultation.refresh_from_db()
    assert consultation.status == Status.CLOSED
    assert Message.objects.filter(author_kind=AuthorKind.STAFF).count() == 2
    expect(page.get_by_role("button", name="Close the consultation")).to_have_count(0)
    assert csp_violations == []
