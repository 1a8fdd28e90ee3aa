"""The member's download of their data (policy C7, issue 14 item 2): the ZIP the worker builds
(data.json with its JSON Schema, index.html, the attachments), checked against the catalog so
that a forgotten model or field fails; nothing of another member; a field under correction left
out; a number of queries that does not grow with the rows; and the download, page and API, for
the member alone and for 7 days. Runs on SQLite and PostgreSQL."""

import html
import io
import json
import logging
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta

import jsonschema
import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext

from kirakira.accounts import services as account_services
from kirakira.accounts.models import KnownLoginAddress, User
from kirakira.api.testing import error_body
from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.consultations import services as consultation_services
from kirakira.consultations.testing import PNG, open_for_member, upload
from kirakira.legal.models import TermsAgreement
from kirakira.legal.services import terms_agree
from kirakira.orders import lifecycle
from kirakira.orders.models import IdempotencyKey, Order
from kirakira.orders.testing import make_service, place_order
from kirakira.privacy.access_log.collector import subject_path
from kirakira.privacy.access_log.services import record
from kirakira.privacy.access_log.transparency import pseudonym_code
from kirakira.privacy.catalog import Context, Protection, catalog
from kirakira.privacy.crypto.fields import BlindIndexField, EncryptedBinaryField
from kirakira.privacy.models import PolicyAcknowledgement, PolicyVersion
from kirakira.privacy.rights import export, export_files
from kirakira.privacy.rights.export_views import expired_message
from kirakira.privacy.rights.identity import code_send
from kirakira.privacy.rights.models import RightsRequest
from kirakira.privacy.rights.selectors import MEMBER_ROWS
from kirakira.usage.models import UsageRecord

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _export_dir(settings, tmp_path):
    settings.EXPORT_DIR = tmp_path / "exports"


# --- a fully exercised member ---------------------------------------------------------------------
def _policy_version(officer) -> PolicyVersion:
    version = PolicyVersion.objects.order_by("-number").first()
    if version is not None:
        return version
    return PolicyVersion.objects.create(
        number=1,
        effective_on=date(2026, 1, 1),
        snapshot_ja="方針",
        snapshot_en="policy",
        snapshot_ko="방침",
        cookies_digest="0" * 64,
        published_at=T0 - timedelta(days=60),
        published_by=officer,
    )


def exercise(member, tag: str, *, staff) -> dict:
    """Give ``member`` a row in every kind of record a member can have; every text they wrote
    carries ``tag``, so that it can be looked for in another member's export."""
    cs, accountant = staff["cs"], staff["accountant"]
    terms_agree(member=member, channel=TermsAgreement.Channel.REGISTRATION)
    service = make_service(photo_link_count=1)
    done = place_order(
        member=member,
        service=service,
        sns_account_id=f"{tag}.sns",
        photo_links=[f"https://photos.example.com/{tag}.jpg"],
        note=f"{tag} note",
        phone="090-1111-2222" if tag == "mine" else "070-9876-5432",
    )
    lifecycle.payment_record(
        order_id=done.pk,
        amount_yen=done.price_yen,
        received_on=date(2026, 3, 1),
        payer_name=f"{tag} payer",
        actor=accountant,
    )
    lifecycle.order_cancel(
        order_id=done.pk,
        member=member,
        reason=f"{tag} cancel reason",
        refund_account={
            "bank_name": f"{tag} bank",
            "branch": f"{tag} branch",
            "account_type": "ordinary",
            "account_number": "1234567" if tag == "mine" else "7654321",
            "account_holder": f"{tag} holder",
        },
    )
    open_order = place_order(member=member, service=service, sns_account_id=f"{tag}.frozen", photo_links=[])
    IdempotencyKey.objects.create(
        member=member, scope="order_form", key_digest="a" * 64, request_digest="b" * 64, order=open_order
    )
    consultation = open_for_member(
        member, subject=f"{tag} subject", body=f"{tag} body", files=[upload(f"{tag}.png", PNG + tag.encode())]
    )
    consultation_services.staff_reply(consultation_id=consultation.pk, actor=cs, body=f"reply to {tag}")
    consultation_services.staff_reply(
        consultation_id=consultation.pk, actor=cs, body=f"internal note on {tag}", internal=True
    )
    UsageRecord.objects.create(
        member=member,
        occurred_at=clock.now(),
        ip_address="203.0.113.9" if tag == "mine" else "198.51.100.250",
        method="GET",
        route="orders:list",
        status_code=200,
    )
    record(actor=cs, action="view", model=Order, object_id=done.pk, subjects=[member.pk])
    PolicyAcknowledgement.objects.create(member=member, version=_policy_version(staff["officer"]))
    Client().force_login(member)  # a browser session
    account_services.member_token_create(user=member, client=f"{tag}-client")  # an API token
    KnownLoginAddress.objects.create(user=member, address_hash="c" * 64, last_seen_at=clock.now())
    code_send(member)  # an identity code
    return {"done": done, "open": open_order, "consultation": consultation}


@pytest.fixture
def staff():
    return {
        "cs": StaffFactory(roles=[Role.CUSTOMER_SERVICE], name="Staffname Suzuki", login_id="staffsuzuki"),
        "accountant": StaffFactory(roles=[Role.ACCOUNTING]),
        "officer": StaffFactory(roles=[Role.PRIVACY_OFFICER]),
    }


@pytest.fixture
def world(staff):
    with clock.frozen_at(T0):
        member = MemberFactory(name="山田 花子", email="hanako-mine@example.com", language="ja")
        other = MemberFactory(name="Otherperson Zqx", email="zqx-other@example.org", login_id="zqxother")
        mine = exercise(member, "mine", staff=staff)
        theirs = exercise(other, "zqxtheirs", staff=staff)
        # The member asks to correct the SNS account of their open order: frozen until done.
        RightsRequest.objects.create(
            member=member,
            kind="correction",
            target="orders.Order",
            target_id=str(mine["open"].pk),
            target_field="sns_account_id",
            wrong_value="a typo",
            right_value="mine.right",
            due_at=T0 + timedelta(days=10),
        )
    return {"member": member, "other": other, "mine": mine, "theirs": theirs, "staff": staff}


def export_request(member, at=T0) -> RightsRequest:
    return RightsRequest.objects.create(
        member=member, kind="export", received_at=at, due_at=at + timedelta(days=10)
    )


def built(member, at=T0) -> RightsRequest:
    request = export_request(member, at)
    with clock.frozen_at(at):
        export.build(request.pk)
    request.refresh_from_db()
    return request


def archive_of(request) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(export_files.read(request))))


def data_of(archive) -> dict:
    return json.loads(archive.read("data.json"))


# --- the archive ----------------------------------------------------------------------------------
def test_the_export_is_ready_with_its_file_and_a_link_for_seven_days(world):
    request = built(world["member"])
    assert request.status == "done" and request.progress == 100
    assert request.file_name == "kirakira-my-data-20260302.zip"
    assert request.expires_at == T0 + timedelta(days=7)
    archive = archive_of(request)
    assert archive.testzip() is None
    names = archive.namelist()
    assert names[:3] == ["data.json", "schema.json", "index.html"]
    attachment = world["mine"]["consultation"].messages.get(author_kind="member").attachments.get()
    assert f"attachments/{attachment.pk}/mine.png" in names
    assert archive.read(f"attachments/{attachment.pk}/mine.png") == PNG + b"mine"
    assert sum(len(chunk) for chunk in export_files.read(request)) == request.file_size


def test_data_json_follows_its_schema(world):
    archive = archive_of(built(world["member"]))
    schema = json.loads(archive.read("schema.json"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    data = data_of(archive)
    assert list(validator.iter_errors(data)) == []
    # The schema is closed: a column it does not describe fails.
    data["records"]["orders.Order"]["rows"][0]["surprise"] = 1
    assert not validator.is_valid(data)


def _expected_columns(declaration) -> set[str]:
    """Every column the catalog declares for the model, less what is never handed out."""
    model = declaration.model
    names = set()
    for model_field in model._meta.concrete_fields:
        name = model_field.name
        if not declaration.covers(name) or isinstance(model_field, BlindIndexField):
            continue
        entry = declaration.fields.get(name)
        if entry is not None and entry.protection == Protection.ONE_WAY:
            continue
        if name in export.SECRETS.get(declaration.model_label, ()) or name in export.OTHERS.get(
            declaration.model_label, ()
        ):
            continue
        names.add(name)
    return names | {name for name, _path in export.EXTRAS.get(declaration.model_label, ())}


def _lookup(declaration) -> str | None:
    if declaration.model_label in export.BELONGS_THROUGH:
        return export.BELONGS_THROUGH[declaration.model_label]
    if not declaration.subject:
        return None
    return subject_path(declaration.model).lookup


def _plain(value):
    return json.loads(json.dumps(value, default=export._json_default))


def test_the_export_holds_every_record_and_field_the_catalog_declares_for_the_member(world):
    member = world["member"]
    archive = archive_of(built(member))
    data = data_of(archive)
    records = data["records"]
    checked = set()
    for declaration in catalog.declarations():
        lookup = _lookup(declaration)
        if lookup is None:
            assert not declaration.subject, f"{declaration.model_label}: the export cannot find the member's rows"
            continue
        label = declaration.model_label
        rows = declaration.model._base_manager.filter(**{lookup: member.pk})
        if label in MEMBER_ROWS:  # staff's internal notes are left out, as on the member's pages
            rows = rows.filter(MEMBER_ROWS[label])
        count = rows.count()
        if label in export.WITHHELD:
            continue
        if label in export.ELSEWHERE:
            assert len(data[export.ELSEWHERE[label]]) == count, label
            continue
        assert label in records, f"{label}: the member has rows of it, the export has no section"
        exported = records[label]["rows"]
        assert len(exported) == count, label
        if not count:
            continue
        checked.add(label)
        expected = _expected_columns(declaration)
        by_pk = {str(row.pk): row for row in rows} if "id" in expected else {}
        for row in exported:
            assert set(row) - {"under_correction"} == expected, label
            frozen = set(row.get("under_correction", ()))
            source = by_pk.get(str(row.get("id")))
            if source is None:
                continue
            for name in declaration.fields:  # every personal field, decrypted
                if name not in expected or name in frozen:
                    continue
                model_field = source._meta.get_field(name)
                if model_field.is_relation:
                    continue
                if isinstance(model_field, EncryptedBinaryField):  # the file, beside data.json
                    assert archive.read(row[name]) == bytes(getattr(source, name)), f"{label}.{name}"
                    continue
                assert row[name] == _plain(getattr(source, name)), f"{label}.{name}"
    # A fully exercised member has rows of each kind the issue names.
    assert {
        "accounts.User",
        "accounts.BrowserSession",
        "accounts.MemberToken",
        "knox.AuthToken",
        "usage.UsageRecord",
        "orders.Order",
        "orders.Payment",
        "orders.Refund",
        "orders.Cancellation",
        "orders.OrderEvent",
        "consultations.Consultation",
        "consultations.Message",
        "consultations.Attachment",
        "privacy.PolicyAcknowledgement",
        "legal.TermsAgreement",
        "privacy.RightsRequest",
        "privacy.IdentityCode",
    } <= checked
    assert data["disclosures"] == [] and data["consents"] == []
    assert len(data["staff_access_log"]) >= 1


def test_only_known_secrets_and_other_peoples_columns_are_left_out():
    # A column left out of the export must be a credential, a hash, or someone else's: the list
    # is short and each name says so; a model withheld whole is one of four, for the reasons given.
    credential = ("password", "session", "token", "digest", "key", "hash")
    for label, names in export.SECRETS.items():
        for name in names:
            assert any(word in name for word in credential), f"{label}.{name}"
    assert set(export.OTHERS) == {"privacy.PermissionChange", "privacy.RegistrationMatch"}
    assert set(export.WITHHELD) == {
        "privacy.StaffAccessRecord",
        "privacy.AccessReview",
        "admin.LogEntry",
        "privacy.LegalHold",
    }


def test_values_are_decrypted_and_staff_appear_by_pseudonym(world):
    member, staff = world["member"], world["staff"]
    archive = archive_of(built(member))
    data = data_of(archive)
    records = data["records"]
    (user,) = records["accounts.User"]["rows"]
    assert user["email"] == "hanako-mine@example.com" and user["name"] == "山田 花子"
    assert "password" not in user and "email_index" not in user
    orders = {row["id"]: row for row in records["orders.Order"]["rows"]}
    done = orders[str(world["mine"]["done"].pk)]
    assert done["sns_account_id"] == "mine.sns" and done["phone"] == "090-1111-2222"
    assert done["photo_links"] == ["https://photos.example.com/mine.jpg"]
    (payment,) = records["orders.Payment"]["rows"]
    assert payment["payer_name"] == "mine payer"
    assert payment["recorded_by"] == pseudonym_code(staff["accountant"].pk)
    (refund,) = records["orders.Refund"]["rows"]
    assert refund["account_number"] == "1234567" and refund["account_holder"] == "mine holder"
    assert "account_number_index" not in refund
    (cancellation,) = records["orders.Cancellation"]["rows"]
    assert cancellation["reason"] == "mine cancel reason"
    events = records["orders.OrderEvent"]["rows"]
    assert {event["kind"] for event in events} >= {"placed", "payment_recorded", "cancelled"}
    messages = records["consultations.Message"]["rows"]
    assert {m["body"] for m in messages} == {"mine body", "reply to mine"}
    assert b"internal note on mine" not in b"".join(archive.read(name) for name in archive.namelist())
    replies = [m for m in messages if m["author_kind"] == "staff"]
    assert {m["author"] for m in replies} == {pseudonym_code(staff["cs"].pk)}
    (attachment,) = records["consultations.Attachment"]["rows"]
    assert attachment["content"] == f"attachments/{attachment['id']}/mine.png"
    (usage,) = records["usage.UsageRecord"]["rows"]
    assert usage["ip_address"] == "203.0.113.9"
    (ack,) = records["privacy.PolicyAcknowledgement"]["rows"]
    assert ack["version_number"] == 1
    (agreement,) = records["legal.TermsAgreement"]["rows"]
    assert (agreement["version_number"], agreement["channel"]) == (1, "registration")
    (session,) = records["accounts.BrowserSession"]["rows"]
    assert set(session) == {"expire_date", "user", "public_id", "created_at", "last_used_at", "client"}
    (token,) = records["knox.AuthToken"]["rows"]
    assert set(token) == {"user", "created", "expiry"}
    (member_token,) = records["accounts.MemberToken"]["rows"]
    assert member_token["client"] == "mine-client" and "token" not in member_token
    (code,) = records["privacy.IdentityCode"]["rows"]
    assert "digest" not in code
    (access,) = data["staff_access_log"]
    assert access["staff"] == pseudonym_code(staff["cs"].pk)
    assert access["roles"] == ["customer_service"] and access["action"] == "view"


def _everything(archive) -> bytes:
    return b"\n".join(archive.read(name) for name in archive.namelist())


def test_nothing_of_another_member_or_of_staff_is_in_the_export(world):
    request = built(world["member"])
    raw = b"".join(export_files.read(request))
    content = _everything(zipfile.ZipFile(io.BytesIO(raw)))
    other, theirs = world["other"], world["theirs"]
    for needle in (
        "zqx",  # every text the other member wrote, their name, login ID and email address
        "070-9876-5432",
        "7654321",
        "198.51.100.250",
        str(other.pk),
        str(theirs["done"].pk),
        str(theirs["open"].pk),
        str(theirs["consultation"].pk),
        # staff: their names, login IDs and account IDs
        "Staffname",
        "staffsuzuki",
        *(str(user.pk) for user in world["staff"].values()),
    ):
        assert needle.lower().encode() not in content.lower(), needle  # every member, inflated
    # The whole ZIP as stored too (file names, headers): compressed bytes hold a short needle by
    # chance now and then, so only the longer ones are looked for there.
    for needle in (
        "zqxtheirs",
        "zqx-other@example.org",
        "Otherperson Zqx",
        str(other.pk),
        "Staffname Suzuki",
    ):
        assert needle.encode() not in raw, needle
    # ... and the other member's own export holds theirs, not the member's.
    content = _everything(archive_of(built(other)))
    assert b"zqxtheirs body" in content and b"zqxtheirs.png" in content
    assert b"mine" not in content and "山田".encode() not in content and b"hanako-mine" not in content


def test_a_field_under_correction_is_left_out_everywhere(world):
    member = world["member"]
    archive = archive_of(built(member))
    data = data_of(archive)
    frozen_id = str(world["mine"]["open"].pk)
    rows = {row["id"]: row for row in data["records"]["orders.Order"]["rows"]}
    assert rows[frozen_id]["sns_account_id"] is None
    assert rows[frozen_id]["under_correction"] == ["sns_account_id"]
    assert rows[frozen_id]["phone"]  # the rest of the row is there
    assert "under_correction" not in rows[str(world["mine"]["done"].pk)]
    everything = _everything(archive)
    assert b"mine.frozen" not in everything
    with translation.override("ja"):
        from django.utils.translation import pgettext

        shown = pgettext("export", "under correction")
    assert f'<td class="frozen">{shown}</td>'.encode() in archive.read("index.html")
    # Once the correction is done, the value is exported again.
    RightsRequest.objects.filter(kind="correction").update(status="done")
    data = data_of(archive_of(built(member, at=T0 + timedelta(days=1))))
    rows = {row["id"]: row for row in data["records"]["orders.Order"]["rows"]}
    assert rows[frozen_id]["sns_account_id"] == "mine.frozen"


@pytest.mark.parametrize("language", ["ja", "en", "ko"])
def test_index_html_is_in_the_members_language_with_the_catalogs_labels(world, language):
    member = world["member"]
    User.objects.filter(pk=member.pk).update(language=language)
    member.refresh_from_db()
    page = archive_of(built(member)).read("index.html").decode()
    assert page.startswith("<!DOCTYPE html>") and f'<html lang="{language}">' in page
    with translation.override(language):
        expected = [
            str(Context.SERVICE.label),
            str(Context.CONSULTATION.label),
            str(capfirst(Order._meta.verbose_name_plural)),
            str(capfirst(Order._meta.get_field("sns_account_id").verbose_name)),
            str(catalog.field("orders.Order", "phone").item.label),
        ]
    for text in expected:
        assert text in page, text
    assert "mine.sns" in page and "mine payer" in page and "203.0.113.9" in page
    attachment = world["mine"]["consultation"].messages.get(author_kind="member").attachments.get()
    assert f'<a href="attachments/{attachment.pk}/mine.png">attachments/{attachment.pk}/mine.png</a>' in page
    # Self-contained: nothing is loaded from anywhere.
    assert (
        "<script" not in page
        and "src=" not in page
        and "<link" not in page
        and "http://testserver" not in page
    )


def test_what_a_member_wrote_is_text_in_index_html_never_markup(staff):
    with clock.frozen_at(T0):
        member = MemberFactory(language="en")
        place_order(member=member, note='<script>alert("x")</script> & <b>bold</b>')
    page = archive_of(built(member)).read("index.html").decode()
    assert "<script" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page


def test_the_number_of_queries_does_not_grow_with_the_records(staff):
    def member_with(orders: int, usage: int, accesses: int, at) -> User:
        with clock.frozen_at(at):
            member = MemberFactory()
            service = make_service()
            for _ in range(orders):
                place_order(member=member, service=service)
            UsageRecord.objects.bulk_create(
                UsageRecord(
                    member=member,
                    occurred_at=at,
                    ip_address="203.0.113.9",
                    method="GET",
                    route="home",
                    status_code=200,
                )
                for _ in range(usage)
            )
            for _ in range(accesses):
                record(
                    actor=staff["cs"], action="view", model=User, object_id=member.pk, subjects=[member.pk]
                )
        return member

    def queries(member, at) -> int:
        request = export_request(member, at)
        with clock.frozen_at(at), CaptureQueriesContext(connection) as captured:
            export.build(request.pk)
        request.refresh_from_db()
        assert request.status == "done"
        return len(captured)

    small = member_with(3, 10, 1, T0)
    large = member_with(30, 100, 5, T0 + timedelta(hours=1))
    few = queries(small, T0)
    many = queries(large, T0 + timedelta(hours=1))
    assert few == many
    rows = data_of(archive_of(RightsRequest.objects.get(member=large, kind="export")))["records"]
    assert len(rows["orders.Order"]["rows"]) == 30 and len(rows["usage.UsageRecord"]["rows"]) == 100


def test_a_request_already_answered_is_left_alone(world):
    request = built(world["member"])
    before = export_files.path_of(request).stat().st_mtime_ns
    with CaptureQueriesContext(connection) as captured:
        export.build(request.pk)
    assert len(captured) == 1  # it read the request, and stopped
    assert export_files.path_of(request).stat().st_mtime_ns == before


def test_a_failure_leaves_no_file_and_is_raised(world, monkeypatch, django_capture_on_commit_callbacks):
    request = export_request(world["member"])

    def broken(self, out, spool):
        out.write("{")
        out.flush()
        raise RuntimeError("disk full")

    monkeypatch.setattr(export._Build, "index_html", broken)
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        export.build(request.pk)
    request.refresh_from_db()
    assert request.status == "failed" and not request.file_name
    assert not list(export_files.path_of(request).parent.iterdir())
    # The failed one no longer blocks a new export, and the member is told.
    from kirakira.privacy.rights.services import clean_details

    assert clean_details(world["member"], "export", {}) == {}
    with translation.override(world["member"].language):
        assert mail.outbox[-1].subject == gettext("Kirakira SNS: we could not prepare your data")


# --- the download, page and API ------------------------------------------------------------------
PAGE = "/privacy/exports/{}/download/"
API = "/api/v1/privacy/exports/{}/download"


def _client(member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def _api(member, language="en") -> Client:
    _instance, token = account_services.member_token_create(user=member, client="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE=language)


def _assert_zip_download(response, request) -> bytes:
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="kirakira-my-data-20260302.zip"'
    assert "no-store" in response["Cache-Control"]
    assert int(response["Content-Length"]) == request.file_size
    body = b"".join(response.streaming_content)
    assert zipfile.ZipFile(io.BytesIO(body)).testzip() is None
    return body


@pytest.fixture
def ready(world):
    return built(world["member"])


def test_the_member_downloads_their_file_and_the_download_is_logged(world, ready, caplog):
    with (
        clock.frozen_at(T0 + timedelta(days=6, hours=23)),
        caplog.at_level(logging.INFO, "kirakira.privacy.rights"),
    ):
        body = _assert_zip_download(_client(world["member"]).get(PAGE.format(ready.pk)), ready)
    assert b"data.json" in body
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("kirakira.privacy.rights")]
    assert logged == [f"export downloaded: request {ready.pk}"]
    ready.refresh_from_db()
    assert ready.downloads == 1
    assert ready.last_downloaded_at == T0 + timedelta(days=6, hours=23)


def test_another_member_gets_a_404_as_for_no_file(world, ready):
    client = _client(world["other"])
    with clock.frozen_at(T0 + timedelta(days=1)):
        assert client.get(PAGE.format(ready.pk)).status_code == 404
        assert client.get(PAGE.format(uuid.uuid4())).status_code == 404
    ready.refresh_from_db()
    assert ready.downloads == 0


def test_after_seven_days_the_link_is_gone(world, ready):
    client = _client(world["member"])
    with clock.frozen_at(T0 + timedelta(days=7)):
        response = client.get(PAGE.format(ready.pk))
    assert response.status_code == 410
    page = response.content.decode()
    assert '<html lang="ja">' in page
    with translation.override("ja"):
        assert html.escape(expired_message()) in page
    with clock.frozen_at(T0 + timedelta(days=7)):
        page = client.get("/en" + PAGE.format(ready.pk)).content.decode()
    assert "The download link has expired and the file is deleted. You can ask for a new one." in page


def test_a_file_gone_before_its_link_expires_is_gone_too(world, ready):
    export_files.delete(ready)
    with clock.frozen_at(T0 + timedelta(days=1)):
        assert _client(world["member"]).get(PAGE.format(ready.pk)).status_code == 410
        error_body(_api(world["member"]).get(API.format(ready.pk)), 410)


def test_a_download_not_ready_is_a_404_and_a_visitor_is_sent_to_log_in(world):
    request = export_request(world["member"])
    assert _client(world["member"]).get(PAGE.format(request.pk)).status_code == 404
    response = Client().get(PAGE.format(request.pk))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_api_streams_the_file_to_its_member_alone_for_seven_days(world, ready):
    with clock.frozen_at(T0 + timedelta(days=1)):
        api = _api(world["member"])
        _assert_zip_download(api.get(API.format(ready.pk), HTTP_ACCEPT="application/zip"), ready)
        _assert_zip_download(api.get(API.format(ready.pk)), ready)
        other = _api(world["other"])
        error_body(other.get(API.format(ready.pk)), 404)
        error_body(api.get(API.format("not-a-uuid")), 404)
        error_body(Client().get(API.format(ready.pk)), 401)
        # The request's answer links to the download.
        download_url = api.get(f"/api/v1/privacy/requests/{ready.pk}").json()["download_url"]
        assert download_url == API.format(ready.pk)
    with clock.frozen_at(T0 + timedelta(days=7, seconds=1)):
        body = error_body(_api(world["member"]).get(API.format(ready.pk)), 410)
    assert "expired" in body["message"]


def test_the_api_documents_the_download(client):
    document = json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    operation = document["paths"]["/api/v1/privacy/exports/{request_id}/download"]["get"]
    assert set(operation["responses"]) >= {"200", "401", "404", "410"}
    assert "application/zip" in operation["responses"]["200"]["content"]
