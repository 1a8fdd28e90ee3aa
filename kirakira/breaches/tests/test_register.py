"""The breach register (policy C10 ⑤, promise P65): privacy staff record an incident, Kirakira
finds the affected members from its scope, starts the legal clocks, tells each member (email in
their language, their page, the API) and the unreachable ones by a public notice for 30 days,
reminds the privacy roles before a clock runs out, and fills in the reports."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import translation
from knox.models import AuthToken

from kirakira.breaches import clocks as legal_clocks
from kirakira.breaches import reminders, reports, services
from kirakira.breaches.models import (
    AffectedMember,
    BreachIncident,
    BreachNotice,
    ClockDone,
    PermanentRecordError,
    PublicNotice,
)
from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.smtp_testing import smtp_server
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.orders.models import Order
from kirakira.orders.testing import make_service, place_order
from kirakira.privacy.access_log.services import record_instance
from kirakira.privacy.models import StaffAccessRecord
from kirakira.privacy.policy import checks
from kirakira.privacy.retention import storage
from kirakira.privacy.rights import selectors as rights_selectors

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
NOON = datetime(2026, 12, 1, 12, 0, tzinfo=TOKYO)


@pytest.fixture
def officer():
    return StaffFactory(roles=[Role.PRIVACY_OFFICER], email="officer@kirakira.example")


@pytest.fixture
def members():
    service = make_service(photo_link_count=0)
    with clock.frozen_at(NOON - timedelta(days=10)):
        hanako = MemberFactory(login_id="hanako01", language="en")
        taro = MemberFactory(login_id="taro02")
        hanako_order = place_order(member=hanako, service=service, phone="090-1111-2222")
        place_order(member=taro, service=service, phone="080-3333-4444")
    # Taro's new address was never confirmed: he cannot be reached by email.
    type(taro).objects.filter(pk=taro.pk).update(email_confirmed_at=None)
    with clock.frozen_at(NOON + timedelta(hours=1)):  # joined and ordered after the window
        late = MemberFactory(login_id="late03")
        place_order(member=late, service=service, phone="070-5555-6666")
    return {"hanako": hanako, "taro": taro, "late": late, "hanako_order": hanako_order}


def record(actor, **overrides):
    data = {
        "actor": actor,
        "detected_at": NOON - timedelta(hours=2),
        "began_at": NOON - timedelta(days=3),
        "description": "注文情報の一部が外部から閲覧できる状態になっていました。",
        "cause": "internal_error",
        "items": ["phone"],
        "scope": "window",
        "window_start": NOON - timedelta(days=3),
        "window_end": NOON - timedelta(hours=2),
        "measures": "設定を修正し、閲覧できない状態にしました。",
        "member_advice": "不審な電話にご注意ください。",
    }
    data.update(overrides)
    with clock.frozen_at(NOON):
        return services.incident_record(**data)


def affected(incident):
    return set(AffectedMember.objects.filter(incident=incident).values_list("member__login_id", flat=True))


def test_a_window_finds_the_members_whose_records_existed_in_it(officer, members):
    incident = record(officer)
    assert affected(incident) == {"hanako01", "taro02"}
    assert incident.affected_count == 2
    # Shown by the site ("visible from outside"): read decrypted, so encryption protected nothing.
    assert not incident.protected
    # Only the stored copy (a dump): the phone is encrypted under each member's key...
    assert record(officer, only_stored_copy=True).protected
    # ...unless the keys went with it, or an item is stored as it is (the login ID).
    assert not record(officer, only_stored_copy=True, keys_exposed=True).protected
    assert not record(officer, only_stored_copy=True, items=["phone", "login_id"]).protected


def test_an_empty_scope_is_refused(officer, members):
    with pytest.raises(ValidationError) as caught:
        record(officer, window_start=NOON - timedelta(days=30), window_end=NOON - timedelta(days=20))
    assert set(caught.value.message_dict) == {"window_start"}
    StaffFactory(login_id="idle01", roles=[Role.CUSTOMER_SERVICE])
    with pytest.raises(ValidationError) as caught:
        record(officer, scope="access_log", staff_login_id="idle01")
    assert set(caught.value.message_dict) == {"staff_login_id"}
    assert not BreachIncident.objects.exists()


def test_a_list_and_the_access_log_are_scopes_too(officer, members):
    assert affected(record(officer, scope="list", login_ids=["taro02"])) == {"taro02"}
    clerk = StaffFactory(login_id="clerk01", roles=[Role.CUSTOMER_SERVICE])
    with clock.frozen_at(NOON - timedelta(days=1)):
        record_instance(actor=clerk, action="view", instance=members["hanako_order"])
        # A refused access showed nothing: Taro is not affected by it.
        record_instance(actor=clerk, action="refused", instance=Order.objects.get(member=members["taro"]))
    incident = record(
        officer,
        scope="access_log",
        staff_login_id="ＣＬＥＲＫ01",
        cause="staff_misconduct",
        only_stored_copy=True,
    )
    assert affected(incident) == {"hanako01"}
    assert incident.staff_account == clerk
    assert not incident.protected  # the staff account saw the data decrypted
    # A former staff member's account (offboarding ends its staff status) can still be the scope.
    type(clerk).objects.filter(pk=clerk.pk).update(is_staff=False, is_active=False)
    assert affected(record(officer, scope="access_log", staff_login_id="clerk01")) == {"hanako01"}


def test_every_error_is_told_at_once_and_nothing_is_recorded(officer, members):
    with pytest.raises(ValidationError) as caught:
        record(
            officer,
            detected_at=NOON + timedelta(days=1),
            description=" ",
            cause="bad luck",
            items=["no_such_item"],
            window_start=NOON,
            window_end=NOON - timedelta(days=1),
            measures="",
            member_advice="",
        )
    assert set(caught.value.message_dict) == {
        "detected_at",
        "description",
        "cause",
        "items",
        "window_end",
        "measures",
        "member_advice",
    }
    with pytest.raises(ValidationError) as caught:
        record(officer, scope="list", login_ids=["nobody99"])
    assert "nobody99" in caught.value.message_dict["login_ids"][0]
    with pytest.raises(ValidationError) as caught:
        record(officer, scope="access_log", staff_login_id="hanako01")  # a member, not staff
    assert set(caught.value.message_dict) == {"staff_login_id"}
    assert not BreachIncident.objects.exists()


def test_only_the_privacy_roles_record_an_incident(members):
    with pytest.raises(PermissionDenied):
        record(StaffFactory(roles=[Role.CUSTOMER_SERVICE]))


def _incident(**values):
    base = {
        "detected_at": NOON,
        "cause": "internal_error",
        "items": ["phone"],
        "affected_count": 10,
        "protected": False,
    }
    return BreachIncident(**{**base, **values})


def _clocks(incident):
    with translation.override("en"):
        return {c.kind: c for c in legal_clocks.clocks(incident, done={})}


def test_the_clocks_follow_the_laws_triggers():
    small = _clocks(_incident())
    assert small["notify_members"].applies and small["notify_members"].due_at == NOON + timedelta(hours=72)
    assert not small["kr_report"].applies and not small["jp_preliminary"].applies
    # Korea: 1,000 or more people; Japan: more than 1,000.
    thousand = _clocks(_incident(affected_count=1000))
    assert thousand["kr_report"].applies and not thousand["jp_final"].applies
    over = _clocks(_incident(affected_count=1001))
    assert over["jp_preliminary"].due_at == NOON + timedelta(days=5)
    assert over["jp_final"].due_at == NOON + timedelta(days=30)
    # Bank data: a risk of financial loss (Japan), whatever the number.
    bank = _clocks(_incident(items=["account_number"]))
    assert bank["jp_final"].applies and not bank["kr_report"].applies
    # A theft or staff misconduct: Japan's "wrongful purpose" trigger and its 60 days.
    theft = _clocks(_incident(cause="theft", affected_count=1))
    assert theft["jp_preliminary"].applies and theft["jp_final"].due_at == NOON + timedelta(days=60)
    assert not theft["kr_report"].applies
    # An attack: both countries, and 60 days for Japan's final report.
    attack = _clocks(_incident(cause="external_attack", affected_count=1))
    assert attack["kr_report"].applies and attack["kr_report"].due_at == NOON + timedelta(hours=72)
    assert attack["jp_final"].due_at == NOON + timedelta(days=60)
    # Encrypted under keys that were not exposed: Japan's duty does not apply; Korea's does.
    sealed = _clocks(_incident(cause="external_attack", protected=True))
    assert not sealed["jp_preliminary"].applies and "exempt" in sealed["jp_preliminary"].why
    assert sealed["kr_report"].applies
    # States on the clock.
    notify = small["notify_members"]
    assert notify.state(NOON + timedelta(hours=1)) == "running"
    assert notify.state(NOON + timedelta(hours=50)) == "due_soon"
    assert notify.state(NOON + timedelta(hours=73)) == "overdue"


def test_notices_reach_every_affected_member_by_email_page_api_or_the_public_notice(
    officer, members, settings, django_capture_on_commit_callbacks
):
    incident = record(officer)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    with smtp_server() as (port, received), clock.frozen_at(NOON + timedelta(hours=1)):
        settings.EMAIL_PORT = port
        with django_capture_on_commit_callbacks(execute=True):
            counts = services.notices_send(incident=incident, actor=officer)
        assert counts == {"emailed": 1, "unreachable": 1}
        # Sending again notifies nobody twice.
        assert services.notices_send(incident=incident, actor=officer) == {"emailed": 0, "unreachable": 0}
    (message,) = received.messages
    assert message["To"] == "hanako01@example.com"
    # In the member's language, naming no data in the subject.
    assert message["Subject"] == "Kirakira SNS: an important notice about your personal information"
    body = message.get_content()
    assert "Phone number" in body and "注文情報の一部" in body and settings.PRIVACY_OFFICER_EMAIL in body
    assert "090-1111-2222" not in body
    notices = {n.member.login_id: n for n in BreachNotice.objects.select_related("member")}
    assert notices["hanako01"].reachable and notices["hanako01"].emailed_at is not None
    assert not notices["taro02"].reachable and notices["taro02"].emailed_at is None
    done = ClockDone.objects.get(incident=incident, kind="notify_members")
    assert re.findall(r"\d+", done.note) == ["1", "1"]  # emailed, by the public notice

    # On the member's pages and in the API.
    client = Client()
    client.force_login(members["hanako"])
    mypage = client.get("/en/accounts/mypage/").content.decode()
    assert "We have an important notice about your personal information." in mypage
    page = client.get("/en/notices/").content.decode()
    assert incident.reference in page and "Phone number" in page and "不審な電話" in page
    token = AuthToken.objects.create(user=members["hanako"])[1]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    (notice,) = api.get("/api/v1/privacy/notices", HTTP_ACCEPT_LANGUAGE="en").json()
    assert notice["incident"] == incident.reference
    assert notice["items"] == ["Phone number"] and notice["encrypted"] is False
    assert notice["contact"]["email"] == settings.PRIVACY_OFFICER_EMAIL
    late = Client()
    late.force_login(members["late"])
    assert "no notice for you" in late.get("/en/notices/").content.decode()

    # The public notice, for the member who cannot be reached, for 30 days.
    public = PublicNotice.objects.get(incident=incident)
    assert public.unreachable_count == 1
    assert public.until - public.published_at == timedelta(days=30)
    with clock.frozen_at(NOON + timedelta(days=29)):
        assert incident.reference in Client().get("/en/notices/incidents/").content.decode()
    with clock.frozen_at(NOON + timedelta(days=31)):
        assert incident.reference not in Client().get("/en/notices/incidents/").content.decode()


def test_the_privacy_roles_are_reminded_once_before_a_clock_runs_out_and_once_after(
    officer, members, mailoutbox
):
    # An attack: the Korean report's 72 hours; the login ID is stored unencrypted: Japan's reports.
    incident = record(officer, cause="external_attack", items=["phone", "login_id"])
    with clock.frozen_at(NOON + timedelta(hours=10)):
        assert reminders.remind_due() == 0
    with clock.frozen_at(NOON + timedelta(hours=60)):
        assert reminders.remind_due() == 2  # the members' notices and the Korean report
        assert reminders.remind_due() == 0
    subjects = [m.subject for m in mailoutbox if m.to == ["officer@kirakira.example"]]
    assert len(subjects) == 2 and all(incident.reference in s for s in subjects)
    with clock.frozen_at(NOON + timedelta(hours=61)):
        services.clock_done(incident=incident, kind="kr_report", actor=officer, note="PIPC 2026-123")
        services.notices_send(incident=incident, actor=officer)
    with clock.frozen_at(NOON + timedelta(hours=80)):
        assert reminders.remind_due() == 0  # both answered before they ran out
    with clock.frozen_at(NOON + timedelta(days=6)):
        assert reminders.remind_due() == 1  # Japan's preliminary report is overdue
    with pytest.raises(ValidationError):
        services.clock_done(incident=incident, kind="kr_report", actor=officer)
    # The members' clock is answered only by sending the notices, never by a mark.
    other = record(officer)
    with pytest.raises(ValidationError):
        services.clock_done(incident=other, kind="notify_members", actor=officer)


def test_the_reports_are_filled_in_from_the_register(officer, members):
    incident = record(officer, cause="external_attack")
    name, japanese = reports.report(incident, "jp_preliminary")
    assert name == f"incident-{incident.reference}-jp_preliminary.txt"
    assert "電話番号" in japanese and "外部からの攻撃" in japanese and "2" in japanese
    _name, korean = reports.report(incident, "kr_report")
    assert "전화번호" in korean and incident.description in korean


def test_the_back_office_records_an_incident_and_shows_its_clocks(
    officer, members, django_capture_on_commit_callbacks
):
    with clock.frozen_at(NOON):
        _back_office(officer, django_capture_on_commit_callbacks)


def _back_office(officer, on_commit):
    client = Client()
    client.force_login(officer)
    url = "/en/backoffice/breaches/breachincident/record/"
    assert client.get(url).status_code == 200
    refused = client.post(url, {"scope": "window", "items": ["phone"]})
    assert refused.status_code == 400
    response = client.post(
        url,
        {
            "detected_at": "2026-12-01T10:00",
            "cause": "loss",
            "description": "A laptop was lost.",
            "items": ["phone"],
            "scope": "list",
            "login_ids": "hanako01\ntaro02",
            "measures": "We wiped it remotely.",
            "member_advice": "Nothing is needed.",
        },
    )
    assert response.status_code == 302
    incident = BreachIncident.objects.get()
    page = client.get(f"/en/backoffice/breaches/breachincident/{incident.pk}/change/").content.decode()
    assert "Notify the affected members (72 hours)" in page and "2 members affected." in page
    with on_commit(execute=True):  # the notices are sent by a background task
        sent = client.post(f"/en/backoffice/breaches/breachincident/{incident.pk}/notify/")
    assert sent.status_code == 302 and BreachNotice.objects.filter(incident=incident).count() == 2
    assert client.get(f"/en/backoffice/breaches/breachincident/{incident.pk}/notify/").status_code == 403
    report = client.get(f"/en/backoffice/breaches/breachincident/{incident.pk}/report/jp_final/")
    assert report.status_code == 200 and "attachment" in report["Content-Disposition"]
    clerk = Client()
    clerk.force_login(StaffFactory(roles=[Role.CUSTOMER_SERVICE]))
    assert clerk.get(url).status_code == 403


def test_nothing_in_the_register_is_deleted(officer, members):
    incident = record(officer)
    with pytest.raises(PermanentRecordError):
        incident.delete()
    with pytest.raises(PermanentRecordError):
        AffectedMember.objects.all().delete()
    with pytest.raises(PermanentRecordError):  # the manager deletions of the rights go through
        AffectedMember._base_manager.all().delete()
    # Not offered for deletion on request, and told on My data with a link to the notices.
    assert "breaches.AffectedMember" in rights_selectors.ELSEWHERE
    client = Client()
    client.force_login(members["hanako"])
    with clock.frozen_at(NOON):
        services.notices_send(incident=incident, actor=officer)
    my_data = client.get("/en/privacy/my-data/").content.decode()
    assert "We have told you of 1 incident concerning your personal information." in my_data
    # A withdrawn member's account that the register names is kept by the retention sweep.
    assert storage._still_referenced(type(members["hanako"]), members["hanako"].pk)


def test_the_policy_states_the_breach_register_and_its_promise_is_kept(client):
    html = client.get("/en/privacy/policy/").content.decode()
    assert "within 72 hours of detecting it tell each of them by email and on their My page" in html
    assert "kirakira.policy.W065" not in {message.id for message in checks.check_promises()}


@pytest.mark.parametrize(
    ("language", "subject", "heading", "item"),
    [
        ("ja", "キラキラSNS", "重要なお知らせ", "電話番号"),
        ("en", "Kirakira SNS", "Important notices", "Phone number"),
        ("ko", "키라키라 SNS", "중요 안내", "전화번호"),
    ],
)
def test_the_notice_is_in_the_members_language_by_email_page_and_api(
    officer, language, subject, heading, item, mailoutbox, django_capture_on_commit_callbacks
):
    member = MemberFactory(login_id=f"member_{language}", language=language)
    incident = record(officer, scope="list", login_ids=[member.login_id])
    with django_capture_on_commit_callbacks(execute=True), clock.frozen_at(NOON + timedelta(hours=1)):
        services.notices_send(incident=incident, actor=officer)
    (message,) = mailoutbox
    assert message.subject.startswith(subject) and item in message.body
    client = Client()
    client.force_login(member)
    prefix = "" if language == "ja" else f"/{language}"
    page = client.get(f"{prefix}/notices/").content.decode()
    assert heading in page and item in page and incident.reference in page
    token = AuthToken.objects.create(user=member)[1]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE=language)
    (notice,) = api.get("/api/v1/privacy/notices").json()
    assert notice["items"] == [item]


def test_notices_are_made_in_batches_and_a_stopped_run_is_finished_by_the_next(officer, members, monkeypatch):
    incident = record(officer)
    monkeypatch.setattr(services, "NOTICE_BATCH", 1)
    with clock.frozen_at(NOON + timedelta(hours=1)):
        assert services._notices_batch(incident, officer) is not None  # stopped after one batch
        assert BreachNotice.objects.filter(incident=incident).count() == 1
        rest = services.notices_send(incident=incident, actor=officer)
        assert rest["emailed"] + rest["unreachable"] == 1  # only the member left
    assert BreachNotice.objects.filter(incident=incident).count() == 2
    # Each batch is in the staff access log, naming its members.
    rows = StaffAccessRecord.objects.filter(staff=officer, action="add", model="breaches.BreachNotice")
    assert rows.count() == 2
    assert {s.subject_id for row in rows for s in row.subjects.all()} == {
        members["hanako"].pk,
        members["taro"].pk,
    }
