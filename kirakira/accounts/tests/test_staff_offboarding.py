"""Offboarding a leaving staff member (P63–P64, kirakira/accounts/offboarding.py): open work is
handed to named colleagues who can see it before the account can be deactivated, the exit pledge
is recorded, every login ends, the permission-change log and an append-only record say so."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone, translation
from knox.models import AuthToken

from kirakira.accounts import offboarding, services
from kirakira.accounts.gate import services as gate_services
from kirakira.accounts.gate.models import Offboarding, OffboardingHandover, PermanentRecordError
from kirakira.accounts.models import BrowserSession, User
from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.consultations import services as consultation_services
from kirakira.consultations.models import Consultation
from kirakira.consultations.testing import open_for_member
from kirakira.privacy.models import PermissionChange, RightsRequest
from kirakira.privacy.rights import services as rights_services

pytestmark = pytest.mark.django_db

TEXTS = {"ja": "退職後も秘密を守ります。", "en": "I keep what I handled confidential after I leave.", "ko": "퇴직 후에도 비밀을 지킵니다."}


@pytest.fixture
def people():
    officer = StaffFactory(roles=[Role.PRIVACY_OFFICER])
    return {
        "admin": StaffFactory(roles=[Role.ADMINISTRATOR]),
        "officer": officer,
        "leaver": StaffFactory(roles=[Role.CUSTOMER_SERVICE, Role.PRIVACY_STAFF]),
        "cs": StaffFactory(roles=[Role.CUSTOMER_SERVICE]),
        "privacy": StaffFactory(roles=[Role.PRIVACY_STAFF]),
        "accounting": StaffFactory(roles=[Role.ACCOUNTING]),
        "gone": StaffFactory(roles=[Role.CUSTOMER_SERVICE], is_active=False),
        "pledge": gate_services.exit_pledge_publish(texts=TEXTS, actor=officer),
    }


@pytest.fixture
def work(people):
    """The leaver handles a question (replied to) and a personal-information matter (taken), and
    a rights request (taken); a closed question of theirs is not open work."""
    leaver = people["leaver"]
    question = open_for_member(category="question")
    consultation_services.staff_reply(consultation_id=question.pk, actor=leaver, body="確認いたします。")
    personal = open_for_member(category="personal_information")
    consultation_services.consultation_take(consultation_id=personal.pk, actor=leaver)
    closed = open_for_member(category="question")
    consultation_services.staff_reply(consultation_id=closed.pk, actor=leaver, body="完了しました。")
    consultation_services.consultation_close(consultation_id=closed.pk, actor=leaver)
    request = RightsRequest.objects.create(
        member=MemberFactory(), kind="deletion", due_at=clock.now() + timedelta(days=10)
    )
    rights_services.request_take(request.pk, actor=leaver)
    return {"question": question, "personal": personal, "closed": closed, "request": request}


def fields(work):
    return {
        "question": f"consultation_{work['question'].pk}",
        "personal": f"consultation_{work['personal'].pk}",
        "request": f"rights_request_{work['request'].pk}",
    }


def complete(people, handovers, **overrides):
    kwargs = {
        "leaver_id": people["leaver"].pk,
        "handovers": handovers,
        "exit_pledge": people["pledge"].number,
        "signed_on": timezone.localdate(clock.now()),
        "actor": people["admin"],
        **overrides,
    }
    return offboarding.offboarding_complete(**kwargs)


def test_the_first_staff_reply_makes_its_author_the_handler_and_take_it_changes_it(people, work):
    assert work["question"].__class__.objects.get(pk=work["question"].pk).handler == people["leaver"]
    consultation_services.consultation_take(consultation_id=work["question"].pk, actor=people["cs"])
    assert Consultation.objects.get(pk=work["question"].pk).handler == people["cs"]
    # A reply by someone else does not take it from its handler.
    consultation_services.staff_reply(consultation_id=work["question"].pk, actor=people["leaver"], body="追記です。")
    assert Consultation.objects.get(pk=work["question"].pk).handler == people["cs"]
    with pytest.raises(ValidationError):  # privacy staff are not routed questions
        consultation_services.consultation_take(consultation_id=work["question"].pk, actor=people["privacy"])
    with pytest.raises(PermissionDenied):  # accounting answers no consultation
        consultation_services.consultation_take(consultation_id=work["question"].pk, actor=people["accounting"])


def test_open_items_are_the_leavers_open_consultations_and_requests(people, work):
    items = offboarding.open_items(people["leaver"])
    assert {item.field for item in items} == set(fields(work).values())
    assert offboarding.has_open_items(people["leaver"])
    assert not offboarding.has_open_items(people["cs"])


def test_offboarding_hands_over_records_and_deactivates(people, work, django_capture_on_commit_callbacks):
    leaver, names = people["leaver"], fields(work)
    session = Client()
    session.force_login(leaver)
    assert BrowserSession.objects.filter(user=leaver).exists()
    services.member_token_create(user=leaver, client="test")
    assert AuthToken.objects.filter(user=leaver).exists()

    with django_capture_on_commit_callbacks(execute=True):
        record = complete(
            people,
            {names["question"]: people["cs"].pk, names["personal"]: people["privacy"].pk,
             names["request"]: str(people["privacy"].pk)},
        )

    assert Consultation.objects.get(pk=work["question"].pk).handler == people["cs"]
    assert Consultation.objects.get(pk=work["personal"].pk).handler == people["privacy"]
    assert RightsRequest.objects.get(pk=work["request"].pk).handler == people["privacy"]
    assert Consultation.objects.get(pk=work["closed"].pk).handler == leaver  # closed work stays as it was
    leaver.refresh_from_db()
    assert not leaver.is_active
    assert not BrowserSession.objects.filter(user=leaver).exists()
    assert not AuthToken.objects.filter(user=leaver).exists()
    change = PermissionChange.objects.get(subject=leaver, what="is_active")
    assert (change.actor, change.old_value, change.new_value) == (people["admin"], True, False)
    assert (record.leaver, record.completed_by, record.exit_pledge) == (leaver, people["admin"], people["pledge"])
    assert record.exit_pledge_signed_on == timezone.localdate(clock.now())
    assert {(h.reference, h.to_staff) for h in record.handovers.all()} == {
        (work["question"].reference, people["cs"]),
        (work["personal"].reference, people["privacy"]),
        (work["request"].reference, people["privacy"]),
    }
    # The old session is anonymous now.
    assert session.get("/en/backoffice/").status_code == 302


def test_refused_handovers_say_every_problem_at_once_and_change_nothing(people, work):
    leaver, names = people["leaver"], fields(work)
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        complete(
            people,
            {
                names["question"]: people["gone"].pk,  # deactivated
                names["personal"]: people["cs"].pk,  # customer service is not routed personal matters
                names["request"]: leaver.pk,  # the leaver themself
            },
            exit_pledge=None,
            signed_on=timezone.localdate(clock.now()) + timedelta(days=1),
        )
    errors = caught.value.message_dict
    assert set(errors) == {*names.values(), "exit_pledge", "signed_on"}
    assert "deactivated" in errors[names["question"]][0]
    assert "routed to" in errors[names["personal"]][0]
    assert "themself" in errors[names["request"]][0]
    leaver.refresh_from_db()
    assert leaver.is_active
    assert not Offboarding.objects.exists()
    assert Consultation.objects.get(pk=work["question"].pk).handler == leaver
    assert not PermissionChange.objects.filter(subject=leaver, what="is_active").exists()


def test_a_missing_handover_or_an_unknown_colleague_is_refused(people, work):
    names = fields(work)
    with pytest.raises(ValidationError) as caught:
        complete(people, {names["question"]: people["cs"].pk, names["personal"]: "x"})
    errors = caught.value.message_dict
    assert set(errors) == {names["personal"], names["request"]}
    with pytest.raises(ValidationError) as caught:  # a rights request only to those who answer them
        complete(
            people,
            {names["question"]: people["cs"].pk, names["personal"]: people["privacy"].pk,
             names["request"]: people["accounting"].pk},
        )
    assert set(caught.value.message_dict) == {names["request"]}


def test_only_those_who_change_staff_accounts_offboard_and_nobody_themselves(people, work):
    with pytest.raises(PermissionDenied):
        complete(people, {}, actor=people["cs"])
    with pytest.raises(PermissionDenied):
        complete(people, {}, leaver_id=people["admin"].pk)


def test_without_a_published_exit_pledge_nobody_is_offboarded(people):
    from kirakira.accounts.gate.models import ExitPledge

    ExitPledge.objects.all().delete()  # not a register: the published texts are the privacy officer's
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        complete(people, {}, exit_pledge=None)
    assert "No exit pledge is published yet" in caught.value.message_dict["exit_pledge"][0]


def test_the_offboarding_record_is_never_changed_or_deleted(people):
    record = complete(people, {})
    with pytest.raises(PermanentRecordError):
        record.save()
    with pytest.raises(PermanentRecordError):
        record.delete()
    with pytest.raises(PermanentRecordError):
        Offboarding.objects.all().delete()
    with pytest.raises(PermanentRecordError):
        Offboarding.objects.update(exit_pledge_signed_on=timezone.localdate(clock.now()))
    with pytest.raises(PermanentRecordError):
        OffboardingHandover.objects.update(reference="X")
    assert Offboarding.objects.count() == 1


# --- the back office -------------------------------------------------------------------------------
def _admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _user_url(user, page="change"):
    return f"/en/backoffice/accounts/user/{user.pk}/" + ("change/" if page == "change" else f"{page}/")


def test_the_account_page_refuses_to_deactivate_a_staff_member_with_open_work(people, work):
    client = _admin_client(people["admin"])
    leaver = people["leaver"]
    page = client.get(_user_url(leaver))
    assert _user_url(leaver, "offboard") in page.content.decode()
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["groups"] = [g.pk for g in leaver.groups.all()]
    data["is_active"] = ""
    data["is_staff"] = "on"
    response = client.post(_user_url(leaver), data)
    assert response.status_code == 200
    assert "Hand them over to colleagues on the offboarding page" in response.content.decode()
    leaver.refresh_from_db()
    assert leaver.is_active
    # Once the work is someone else's, the ordinary page deactivates as before.
    consultation_services.consultation_take(consultation_id=work["question"].pk, actor=people["cs"])
    consultation_services.consultation_take(consultation_id=work["personal"].pk, actor=people["officer"])
    rights_services.request_take(work["request"].pk, actor=people["officer"])
    response = client.post(_user_url(leaver), data)
    assert response.status_code == 302
    leaver.refresh_from_db()
    assert not leaver.is_active


def test_the_offboarding_page_lists_the_work_refuses_in_the_pages_language_and_completes(people, work):
    client = _admin_client(people["admin"])
    leaver, names = people["leaver"], fields(work)
    url = _user_url(leaver, "offboard")[3:]  # Japanese, the default language
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    for key in ("question", "personal", "request"):
        assert work[key].reference in html
    assert work["closed"].reference not in html
    refused = client.post(
        url,
        {names["question"]: people["gone"].pk, names["personal"]: people["cs"].pk, names["request"]: "",
         "exit_pledge": "", "signed_on": ""},
    )
    assert refused.status_code == 200
    form = refused.context["form"]
    assert set(form.errors) == {*names.values(), "exit_pledge", "signed_on"}
    leaver.refresh_from_db()
    assert leaver.is_active
    done = client.post(
        url,
        {names["question"]: people["cs"].pk, names["personal"]: people["privacy"].pk,
         names["request"]: people["officer"].pk, "exit_pledge": people["pledge"].number,
         "signed_on": timezone.localdate(clock.now()).isoformat()},
    )
    assert done.status_code == 302
    leaver.refresh_from_db()
    assert not leaver.is_active
    record = Offboarding.objects.get(leaver=leaver)
    assert record.handovers.count() == 3
    after = client.get(url).content.decode()
    records = after.split('data-offboarding="', 1)[1]
    assert all(work[key].reference in records for key in ("question", "personal", "request"))


def test_roles_that_do_not_change_staff_accounts_cannot_open_the_offboarding_page(people):
    client = _admin_client(people["cs"])
    assert client.get(_user_url(people["leaver"], "offboard")).status_code == 403


def test_a_member_account_has_nothing_to_offboard(people):
    client = _admin_client(people["admin"])
    member = MemberFactory()
    response = client.get(_user_url(member, "offboard"))
    assert response.status_code == 200
    assert response.context["form"] is None
    assert User.objects.get(pk=member.pk).is_active
