"""A member downloads all their data in a real browser: from My page to My data, the mailed
code and the password, the request's page while the file is prepared, and the ZIP itself."""

import io
import json
import re
import zipfile

import pytest
from django.core import mail

from kirakira.common.testing import PASSWORD, MemberFactory
from kirakira.orders.testing import place_order
from kirakira.privacy.rights.models import RightsRequest

CODE = re.compile(r"^\s+(\d{6})\s*$", re.MULTILINE)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_member_downloads_all_their_data_in_a_browser(open_page, live_server):
    from playwright.sync_api import expect

    member = MemberFactory(language="en")
    order = place_order(member=member)
    page, _context = open_page("/en/accounts/login/", locale="en-US")
    csp_violations = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and csp_violations.append(message.text),
    )
    page.get_by_role("button", name="Refuse").click()  # the cookie banner first
    page.locator("#id_username").fill(member.login_id)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My page")

    page.get_by_role("link", name="My data: everything we hold about you, and your rights").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My data")
    expect(page.get_by_text(order.sns_account_id).first).to_be_visible()  # decrypted for its owner
    page.get_by_role("link", name="Download all my data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Download my data")

    page.get_by_role("button", name="Email me a code").click()
    expect(page.get_by_text("We emailed you a 6-digit code.")).to_be_visible()
    code = CODE.findall(mail.outbox[-1].body)[0]
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("textbox", name="Confirmation code").fill(f"{(int(code) + 1) % 10**6:06d}")
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_text("The code is incorrect.")).to_be_visible()
    assert not RightsRequest.objects.exists()

    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("textbox", name="Confirmation code").fill(code)
    page.get_by_role("button", name="Send the request").click()
    # The worker (run at once here) builds the file; the page refreshes itself until it is ready.
    link = page.get_by_role("link", name="Download the file (ZIP)")
    expect(link).to_be_visible()
    with page.expect_download() as download_info:
        link.click()
    archive = zipfile.ZipFile(io.BytesIO(open(download_info.value.path(), "rb").read()))  # noqa: SIM115
    assert {"data.json", "schema.json", "index.html"} <= set(archive.namelist())
    data = json.loads(archive.read("data.json"))
    assert order.sns_account_id in json.dumps(data, ensure_ascii=False)
    request = RightsRequest.objects.get()
    assert request.status == "done" and request.downloads == 1
    assert csp_violations == []
