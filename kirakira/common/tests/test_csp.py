"""The Content-Security-Policy: on every response, with no inline script or style allowed, and
no page or template that would need one (the real-browser check is test_csp_browser.py)."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings

from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.consultations.testing import open_for_member
from kirakira.orders.testing import place_order

UNSAFE = {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'wasm-unsafe-eval'"}


def policy(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.wsgi_request.path}"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_strict(response) -> None:
    directives = policy(response)
    scripts = directives.get("script-src", directives["default-src"])
    styles = directives.get("style-src", directives["default-src"])
    assert not UNSAFE & set(scripts), scripts
    assert not UNSAFE & set(styles), styles
    assert "*" not in scripts and "data:" not in scripts
    for name in ("script-src-attr", "script-src-elem", "style-src-attr", "style-src-elem"):
        assert name not in directives  # nothing loosens the two above for some elements
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]


class InlineCode(HTMLParser):
    """Collects what a policy without 'unsafe-inline' would block: inline scripts and styles,
    event handler attributes, style attributes and javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src"):
            if attributes.get("type") not in ("application/json", "application/ld+json"):
                self.found.append("inline <script>")
        if tag == "style":
            self.found.append("inline <style>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{name}= on <{tag}>")
            if name == "style":
                self.found.append(f"style= on <{tag}>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"javascript: URL on <{tag}>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


@pytest.fixture
def consultation(db):
    consultation = open_for_member(MemberFactory())
    from kirakira.consultations import services

    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE])
    services.staff_reply(consultation_id=consultation.pk, actor=staff, body="社内メモ", internal=True)
    return consultation, staff


PAGES = [
    "/",
    "/en/",
    "/privacy/policy/",
    "/accounts/login/",
    "/accounts/register/",
    "/accounts/withdraw/done/",
    "/consultations/new/",
    "/consent/",
    "/backoffice/login/",
    "/api/docs/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_pages_carry_a_strict_policy_and_no_inline_code(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    assert_strict(response)
    assert inline_code(response.content.decode()) == []


@pytest.mark.django_db
def test_the_member_pages_carry_it_too(client):
    member = MemberFactory()
    consultation = open_for_member(member)
    order = place_order(member=member)
    client.force_login(member)
    for path in (
        "/accounts/mypage/",
        "/accounts/withdraw/",
        "/orders/",
        f"/orders/{order.pk}/",
        "/consultations/",
        f"/consultations/{consultation.pk}/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_strict(response)
        assert inline_code(response.content.decode()) == [], path


@pytest.mark.django_db
def test_back_office_pages_carry_it_and_need_no_inline_code(client, consultation):
    consultation, staff = consultation
    client.force_login(staff)
    for path in (
        "/backoffice/",
        "/backoffice/consultations/consultation/",
        f"/backoffice/consultations/consultation/{consultation.pk}/change/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_strict(response)
        assert inline_code(response.content.decode()) == [], path
    # An internal note stands out by a class of the back office's stylesheet, not a style attribute.
    change = client.get(f"/backoffice/consultations/consultation/{consultation.pk}/change/").content.decode()
    assert 'class="form-row internal-note"' in change
    assert "kirakira/backoffice.css" in change


@pytest.mark.django_db
def test_error_pages_and_api_answers_carry_it(client):
    for response in (
        client.get("/no-such-page/"),
        client.get("/api/v1/services"),
        client.get("/api/v1/me"),
        client.get("/api/docs/?script="),
    ):
        assert_strict(response)


@pytest.mark.django_db
def test_the_api_docs_start_up_script_is_a_file_of_its_own(client):
    page = client.get("/api/docs/").content.decode()
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert "/api/docs/?script=" in scripts
    start_up = client.get("/api/docs/?script=")
    assert start_up.status_code == 200
    assert start_up["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in start_up.content


def _project_templates() -> list[Path]:
    root = Path(settings.BASE_DIR) / "kirakira"
    return sorted(p for p in root.glob("**/templates/**/*.html") if "site-packages" not in p.parts)


def test_no_template_of_the_project_has_inline_code():
    templates = _project_templates()
    assert len(templates) > 20  # the walk finds them
    offenders = {
        str(template.relative_to(settings.BASE_DIR)): found
        for template in templates
        if (found := inline_code(template.read_text()))
    }
    assert offenders == {}


def test_the_scanner_sees_each_kind_of_inline_code():
    # Proves the checks above can fail.
    assert inline_code('<script>alert(1)</script><script src="/static/x.js"></script>') == ["inline <script>"]
    assert inline_code('<script type="application/json">{}</script>') == []
    assert inline_code('<button onclick="go()">') == ["onclick= on <button>"]
    assert inline_code('<div style="color:red">') == ["style= on <div>"]
    assert inline_code("<style>p{}</style>") == ["inline <style>"]
    assert inline_code('<a href="javascript:go()">') == ["javascript: URL on <a>"]
