"""A visitor's consultation in a real browser: the form with an attachment, the emailed
confirmation link, the thread, a staff reply and the file coming back as a download."""

import re

import pytest
from django.core import mail

from kirakira.common.roles import Role
from kirakira.common.testing import StaffFactory
from kirakira.consultations import services
from kirakira.consultations.models import Attachment, Consultation, Status
from kirakira.consultations.testing import PDF

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_visitor_consults_confirms_and_reads_the_reply(open_page, live_server, settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = live_server.url
    settings.CLAMAV_SOCKET = ""
    receipt = tmp_path / "receipt.pdf"
    receipt.write_bytes(PDF)
    from playwright.sync_api import expect

    page, _context = open_page("/consultations/new/")
    page.get_by_role("button", name="拒否する").click()  # the cookie banner first: refuse
    page.get_by_label("名前").fill("訪問 花子")
    page.get_by_label("メールアドレス").fill("hanako@example.net")
    page.get_by_label("種類").select_option("question")
    page.get_by_label("件名").fill("料金について")
    page.get_by_label("メッセージ").fill("見積もりをお願いします。")
    page.get_by_label("添付ファイル").set_input_files(str(receipt))
    page.get_by_role("button", name="送信する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("メールアドレスをご確認ください")

    consultation = Consultation.objects.get()
    assert consultation.status == Status.AWAITING_CONFIRMATION
    assert Attachment.objects.get().filename == "receipt.pdf"
    (confirmation,) = mail.outbox
    link = re.search(r"http://\S+/confirm/\S+/", confirmation.body).group(0)

    page.goto(link)
    page.get_by_role("button", name="確認して送信する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("料金について")
    consultation.refresh_from_db()
    assert consultation.status == Status.OPEN

    services.staff_reply(
        consultation_id=consultation.pk,
        actor=StaffFactory(roles=[Role.CUSTOMER_SERVICE]),
        body="3,000円です。",
    )
    page.reload()
    expect(page.get_by_text("3,000円です。")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="receipt.pdf").click()
    download = download_info.value
    assert download.suggested_filename == "receipt.pdf"
    assert open(download.path(), "rb").read() == PDF
