"""A client generated from the published schema with openapi-python-client walks the whole member
journey against a live server: register, confirm the email address (the link read from the
email), log in, read and change the profile, order, cancel, consult, write (with a file, and read
it back), log out. Every answer,
errors included, must be one the client was generated to parse.

Observed before: the generated client got ``parsed=None`` for a duplicate registration, a wrong
password and an invalid email, because the schema did not document those answers.
"""

import importlib
import io
import re
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from django.core import mail

from kirakira.consultations.testing import PNG
from kirakira.orders.testing import make_service

PACKAGE = "kirakira_api_client"
# Binary downloads (attachments) as files, which the generator parses; and no formatter run.
GENERATOR_CONFIG = """\
post_hooks: []
content_type_overrides:
  application/pdf: application/octet-stream
  image/gif: application/octet-stream
  image/heic: application/octet-stream
  image/jpeg: application/octet-stream
  image/png: application/octet-stream
  image/webp: application/octet-stream
"""
CONFIRM_LINK = re.compile(r"/accounts/confirm/(?P<uid>[^/\s]+)/(?P<token>[^/\s]+)/")
PASSWORD = "kirakira-journey-7-pass"


@pytest.fixture
def generated_client(live_server, tmp_path):
    """The client package generated from the live server's schema, imported."""
    schema = httpx.get(f"{live_server.url}/api/schema/", params={"format": "json"}, timeout=30)
    assert schema.status_code == 200
    (tmp_path / "schema.json").write_bytes(schema.content)
    (tmp_path / "config.yaml").write_text(GENERATOR_CONFIG)
    generator = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(tmp_path / "schema.json"),
            "--config",
            str(tmp_path / "config.yaml"),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # The generator says what it had to leave out; a journey's answer left out is a schema bug.
    assert "Warning" not in result.stdout, result.stdout
    _import_unset(tmp_path / PACKAGE)
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def _import_unset(package: Path) -> None:
    """openapi-python-client (0.28 and 0.29 at least) annotates a required body of several media
    types (JSON or a multipart upload, as opening a consultation takes) with ``Unset`` without
    importing it (openapi-generators/openapi-python-client#1451); the module then fails to
    import. The one missing name is added, and nothing else is touched."""
    for module in (package / "api").rglob("*.py"):
        text = module.read_text()
        if "| Unset" in text and not re.search(r"^from \.\.\.types import .*\bUnset\b", text, re.M):
            module.write_text(text.replace("from ...types import ", "from ...types import Unset, ", 1))


class Journey:
    """Calls through the generated client, each checked to be parsed as documented."""

    def __init__(self, package, base_url):
        self.package = package
        self.api = importlib.import_module(f"{PACKAGE}.api.v1")
        self.models = importlib.import_module(f"{PACKAGE}.models")
        self.base_url = base_url
        self.anonymous = package.Client(
            base_url=base_url, headers={"Accept-Language": "ja"}, raise_on_unexpected_status=True
        )
        self.member = None

    def log_in(self, token):
        self.member = self.package.AuthenticatedClient(
            base_url=self.base_url,
            token=token,
            prefix="Bearer",
            headers={"Accept-Language": "ja"},
            raise_on_unexpected_status=True,
        )

    def call(self, operation, status, *, anonymous=False, **kwargs):
        module = importlib.import_module(f"{PACKAGE}.api.v1.{operation}")
        response = module.sync_detailed(client=self.anonymous if anonymous else self.member, **kwargs)
        assert response.status_code == status, (operation, response.status_code, response.content)
        if status != 204:
            assert response.parsed is not None, (operation, status, response.content)
        return response.parsed

    def error(self, operation, status, **kwargs):
        parsed = self.call(operation, status, **kwargs)
        assert isinstance(parsed, self.models.ErrorOutput), (operation, parsed)
        assert parsed.message
        return parsed


@pytest.mark.django_db(transaction=True)
def test_a_generated_client_completes_the_member_journey(generated_client, live_server):
    service = make_service()
    platform = service.platforms.get().code
    journey = Journey(generated_client, live_server.url)
    m = journey.models
    login_id = f"journey{uuid.uuid4().hex[:8]}"
    email = f"{login_id}@example.com"
    registration = m.RegisterInputRequest(
        login_id=login_id, name="旅 花子", email=email, password=PASSWORD, accept_terms=True
    )

    # Register; the same again and a malformed address are errors the client can read.
    member = journey.call("v1_auth_register_create", 201, anonymous=True, body=registration)
    assert isinstance(member, m.MemberOutput)
    assert member.login_id == login_id
    assert not member.email_confirmed
    journey.error("v1_auth_register_create", 400, anonymous=True, body=registration)
    bad_email = m.RegisterInputRequest(
        login_id=f"{login_id}x", name="旅", email="not-an-email", password=PASSWORD, accept_terms=True
    )
    assert "email" in journey.error("v1_auth_register_create", 400, anonymous=True, body=bad_email).errors

    # Confirm the address with the link from the email, through the API.
    links = [
        match
        for message in mail.outbox
        if email in message.to
        for match in CONFIRM_LINK.finditer(message.body)
    ]
    assert len(links) == 1, [message.subject for message in mail.outbox]
    confirmed = journey.call(
        "v1_auth_confirm_email_create",
        200,
        anonymous=True,
        body=m.ConfirmEmailInputRequest(uid=links[0]["uid"], token=links[0]["token"]),
    )
    assert confirmed.confirmed == m.ConfirmedEnum.REGISTRATION

    # Log in: a wrong password is an error the client can read, then a token.
    journey.error(
        "v1_auth_token_create",
        401,
        anonymous=True,
        body=m.TokenInputRequest(login_id=login_id, password="wrong-pass"),
    )
    token = journey.call(
        "v1_auth_token_create",
        200,
        anonymous=True,
        body=m.TokenInputRequest(login_id=login_id, password=PASSWORD),
    )
    journey.log_in(token.token)

    me = journey.call("v1_me_retrieve", 200)
    assert me.email_confirmed
    me = journey.call("v1_me_partial_update", 200, body=m.PatchedProfileInputRequest(name="旅 太郎"))
    assert me.name == "旅 太郎"

    # Order a service on sale, read the order, cancel it.
    services = journey.call("v1_services_list", 200, anonymous=True)
    assert service.pk in [s.id for s in services]
    order = journey.call(
        "v1_orders_create",
        201,
        body=m.OrderInputRequest(
            service=service.pk,
            sns_platform=platform,
            sns_account_id="kira.kira",
            photo_links=["https://photos.example.com/1.jpg"],
            phone="090-1234-5678",
        ),
        idempotency_key=str(uuid.uuid4()),
    )
    assert order.status == m.OrderStatusEnum.AWAITING_PAYMENT
    page = journey.call("v1_orders_list", 200)
    assert [o.id for o in page.results] == [order.id]
    assert journey.call("v1_orders_retrieve", 200, order_id=order.id).id == order.id
    cancelled = journey.call(
        "v1_orders_cancel_create",
        200,
        order_id=order.id,
        body=m.CancelInputRequest(reason="予定が変わりました"),
    )
    assert cancelled.status == m.OrderStatusEnum.CANCELLED
    journey.error(
        "v1_orders_cancel_create", 400, order_id=order.id, body=m.CancelInputRequest(reason="もう一度")
    )

    # Consult about the order, write in the thread, read it back.
    consultation = journey.call(
        "v1_consultations_create",
        201,
        body=m.OpenInputRequest(
            category=m.CategoryEnum.QUESTION,
            subject="返金について",
            body="キャンセルしました。",
            order=order.id,
        ),
    )
    message = journey.call(
        "v1_consultations_messages_create",
        201,
        consultation_id=consultation.id,
        body=m.MessageInputRequest(body="追記です。"),
    )
    types = importlib.import_module(f"{PACKAGE}.types")
    with_file = journey.call(
        "v1_consultations_messages_create",
        201,
        consultation_id=consultation.id,
        body=m.MessageUploadRequest(
            body="写真を添えます。",
            attachments=[types.File(payload=io.BytesIO(PNG), file_name="photo.png", mime_type="image/png")],
        ),
    )
    [attachment] = with_file.attachments
    download = journey.call(
        "v1_consultations_attachments_retrieve",
        200,
        consultation_id=consultation.id,
        attachment_id=attachment.id,
    )
    assert download.payload.read() == PNG
    detail = journey.call("v1_consultations_retrieve", 200, consultation_id=consultation.id)
    assert {message.id, with_file.id} <= {item.id for item in detail.messages}
    assert [c.id for c in journey.call("v1_consultations_list", 200).results] == [consultation.id]

    # Log out: the token is over, and the client can read that too.
    journey.call("v1_auth_logout_create", 204)
    journey.error("v1_me_retrieve", 401)
