"""Every back-office URL, walked from the URL resolver, for every role: each role gets exactly what
its declared permissions (the README's role matrix, ``privacy_catalog --roles``) allow, and every
answer that shows a member's data has left an access-log row naming that member; every refusal
has left a refusal row.

A page is taken to show the member's data when its body holds anything that identifies them or
their records: login ID, name, email address, SNS account, or the key of one of their rows (a
list links each row by its key). This is read from the HTML, not from the log's own machinery,
so a page that shows data some other way than the log expects still fails here.

A URL pattern this test does not know how to judge fails it: a new back-office page must say
here who may use it.
"""

import re
from datetime import timedelta

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver

from kirakira.common import clock
from kirakira.common.roles import ROLE_DECLARATIONS, Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.consultations.models import Attachment
from kirakira.consultations.routing import ROUTES
from kirakira.consultations.testing import open_for_member, upload
from kirakira.orders import lifecycle
from kirakira.orders.models import Payment, Refund
from kirakira.orders.testing import place_order, record_payment
from kirakira.privacy.catalog import catalog
from kirakira.privacy.models import RightsRequest, StaffAccessRecord

pytestmark = pytest.mark.django_db

ACCOUNT = {
    "bank_name": "きらきら銀行",
    "branch": "渋谷支店",
    "account_type": "ordinary",
    "account_number": "7654321",
    "account_holder": "カバレッジ ハナコ",
}
SNS_ID = "coverage.hanako"


def _patterns(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name


def _perms(role) -> frozenset[str]:
    return next(d.permissions for d in ROLE_DECLARATIONS if d.code == str(role))


def _officer_desk(role) -> bool:
    return next(d.officer_desk for d in ROLE_DECLARATIONS if d.code == str(role))


@pytest.fixture
def world(client):
    """One member with an order, a payment, a cancellation with a refund, consultations of two
    categories (one with a file), and use of the site."""
    member = MemberFactory(login_id="coverage_hanako", name="被覆 花子", email="coverage.hanako@example.org")
    order = place_order(member=member, sns_account_id=SNS_ID)
    record_payment(order)
    lifecycle.order_cancel(
        order_id=order.pk, member=member, reason="キャンセルします", refund_account=ACCOUNT
    )
    question = open_for_member(member, category="question", files=[upload("coverage.png")])
    personal = open_for_member(member, category="personal_information")
    client.force_login(member)
    client.get("/en/accounts/mypage/")  # a usage record
    client.logout()
    refund = Refund.objects.get()
    # A correction request (of a field no marker is about): its page and its answers' pages.
    rights_request = RightsRequest.objects.create(
        member=member,
        kind="correction",
        due_at=clock.now() + timedelta(days=10),
        target="orders.Order",
        target_id=str(order.pk),
        target_field="note",
        wrong_value="メモが違います",
        right_value="正しいメモ",
    )
    objects = {
        "privacy.RightsRequest": rights_request,
        "accounts.User": member,
        "orders.Order": order,
        "orders.Payment": Payment.objects.get(),
        "orders.Refund": refund,
        "orders.Cancellation": refund.cancellation if hasattr(refund, "cancellation") else None,
        "consultations.Consultation": question,
    }
    attachment = Attachment.objects.get()
    keys = {
        str(member.pk),
        str(order.pk),
        str(refund.pk),
        str(question.pk),
        str(personal.pk),
        str(attachment.pk),
    }
    keys |= {str(pk) for pk in Payment.objects.values_list("pk", flat=True)}
    markers = {member.login_id, member.name, member.email, SNS_ID, ACCOUNT["account_number"]} | keys
    return {
        "member": member,
        "objects": objects,
        "attachment": attachment,
        "question": question,
        "personal": personal,
        "markers": markers,
    }


def _instance(world, model):
    label = model._meta.label
    known = world["objects"].get(label)
    return known if known is not None else model._default_manager.order_by("pk").first()


def _urls(world):
    """(url, name, model admin, instance) for every back-office URL that can be filled in."""
    site = admin.site
    found = []
    for model, model_admin in site._registry.items():
        base = f"/en/backoffice/{model._meta.app_label}/{model._meta.model_name}/"
        instance = _instance(world, model)
        for pattern, name in _patterns(model_admin.urls):
            if name is None:
                continue  # the catch-all that redirects old URLs to the change page
            if "<" in pattern:
                if instance is None:
                    continue  # no row of this kind exists, so there is no page to show
                url = re.sub(r"<(?:\w+:)?object_id>", str(instance.pk), pattern)
                url = url.replace("<uuid:attachment_id>", str(world["attachment"].pk))
                assert "<" not in url, f"no value to fill {pattern} of {model.__name__}: say how here"
            else:
                url = pattern
            found.append((base + url, name, model_admin, instance))
    for app_label in sorted({model._meta.app_label for model in site._registry}):
        found.append((f"/en/backoffice/{app_label}/", "app_list", None, app_label))
    found.append(("/en/backoffice/", "index", None, None))
    return found


def _allowed(role, name: str, model_admin, instance, world) -> bool:
    """What the role's declaration lets it do on this URL."""
    perms = _perms(role)
    if (
        model_admin is None
    ):  # the index for every staff member; an app's list for those with any of its permissions
        return name == "index" or any(p.startswith(f"{instance}.") for p in perms)
    opts = model_admin.opts
    label = f"{opts.app_label}.%s_{opts.model_name}"
    sees = label % "view" in perms or label % "change" in perms
    action = name.rsplit("_", 1)[-1]
    if opts.label == "consultations.Consultation":
        routed = role in ROUTES[instance.category] if instance is not None else False
        if action == "desk":
            return sees and _officer_desk(role)
        if action == "register":  # entering one received by email or phone: those who answer some
            return sees and "consultations.reply_consultation" in perms and any(
                role in routed_to for routed_to in ROUTES.values()
            )
        if action == "attachment":
            return sees and role in ROUTES[world["question"].category]
        if action in ("change", "history"):
            return sees and routed
    if opts.label == "breaches.BreachIncident" and action in ("record", "notify", "done", "report"):
        return sees and "breaches.record_breachincident" in perms
    if opts.label == "disclosures.Disclosure" and action in ("record", "file"):
        # Recording a provision and downloading what it handed over: the privacy roles.
        return sees and "disclosures.record_disclosure" in perms
    if opts.label == "orders.Refund":
        entry = catalog.field(Refund, "account_number")
        if action == "reveal":
            return sees and (str(role) in entry.reveal or entry.visibility(str(role)) == "full")
        if name.endswith("mark_paid"):
            return sees and "orders.record_payment" in perms and instance.status == "due"
    if name in ("privacy_disposalrun_forecast", "privacy_disposalrun_certificate"):
        return sees  # the ledger's forecast and a run's certificate: whoever sees the ledger
    if name == "privacy_retainedrecord_read":
        return sees  # separate storage: the privacy officer alone (the reading needs a reason)
    if name in ("privacy_rightsrequest_complete", "privacy_rightsrequest_refuse", "privacy_rightsrequest_extend"):
        return sees and "privacy.decide_rightsrequest" in perms  # an answer's form, on the request's page
    if name in ("accounts_user_send_password_reset", "accounts_user_offboard"):
        return "accounts.change_user" in perms
    if opts.label == "accounts.RoleRequest":
        # The officer decides every request; an administrator sees the requests they made.
        if name == "accounts_rolerequest_decide":
            return "accounts.decide_rolerequest" in perms
        if action == "changelist":
            return "accounts.decide_rolerequest" in perms or "accounts.change_user" in perms
    if action in ("changelist", "change", "history"):
        return sees
    raise AssertionError(f"{name}: this test does not know who may use it; add it to _allowed")


def _shows_member(body: str, markers) -> set[str]:
    # A message left by the previous answer ("Consultation with ID … doesn't exist") repeats the
    # key the staff member typed, not data of the member.
    body = re.sub(r'<ul class="messagelist">.*?</ul>', "", body, flags=re.S)
    return {marker for marker in markers if marker and marker in body}


@pytest.mark.parametrize("role", list(Role))
def test_every_back_office_url_answers_by_the_role_matrix_and_logs_what_it_shows(client, world, role):
    staff = StaffFactory(roles=[role])
    client.force_login(staff)
    problems = []
    for url, name, model_admin, instance in _urls(world):
        before = StaffAccessRecord.objects.count()
        response = client.get(url)
        rows = (
            list(StaffAccessRecord.objects.order_by("seq")[before:])
            if before
            else list(StaffAccessRecord.objects.order_by("seq"))
        )
        body = response.content.decode(errors="replace")
        shown = _shows_member(body, world["markers"]) if response.status_code == 200 else set()
        # Adding and deleting are judged by each app's own tests; here only what the page shows.
        if not name.endswith(("_add", "_delete")):
            allowed = _allowed(role, name, model_admin, instance, world)
            if allowed and response.status_code != 200:
                problems.append(f"{url}: {role} may use it but got {response.status_code}")
            if not allowed and response.status_code == 200:
                problems.append(f"{url}: {role} may not use it but got 200")
        if shown:
            named = any(
                row.action != "refused"
                and world["member"].pk in set(row.subjects.values_list("subject_id", flat=True))
                for row in rows
            )
            if not named:
                problems.append(
                    f"{url}: shows {sorted(shown)[:3]} to {role} with no access-log row naming the member"
                )
        if response.status_code == 403 and not any(row.action == "refused" for row in rows):
            problems.append(f"{url}: refused {role} without a refusal row")
        for row in rows:
            assert row.staff_id == staff.pk and row.path == url
    assert not problems, "\n".join(problems)


def test_the_walk_reaches_every_kind_of_page(world):
    """The walk itself: every admin registered is visited, with its list, change and history
    pages and the custom pages (reveal, mark paid, desk, attachment)."""
    names = {name for _url, name, _admin, _instance in _urls(world)}
    for expected in (
        "orders_order_changelist",
        "orders_order_change",
        "orders_order_history",
        "orders_refund_reveal",
        "orders_refund_mark_paid",
        "consultations_consultation_desk",
        "consultations_consultation_attachment",
        "accounts_user_change",
        "usage_usagerecord_changelist",
        "privacy_rightsrequest_change",
        "privacy_rightsrequest_complete",
        "privacy_rightsrequest_refuse",
        "privacy_rightsrequest_extend",
    ):
        assert expected in names, expected


# --- The gate holds on every URL -----------------------------------------------------------------

GATE_STEPS = ("second_factor", "pledge", "training")


def _stopped_at(step: str, staff, client) -> None:
    """Leaves ``staff`` (logged in on ``client`` with the real gate) one step short."""
    from kirakira.accounts.tests.gate_helpers import accept_current_pledge, train, verify_session

    if step != "second_factor":
        verify_session(client, staff)
    if step != "pledge":
        accept_current_pledge(staff)
    else:
        from kirakira.accounts.gate.testing import publish_test_pledge

        accept_current_pledge(staff)
        publish_test_pledge(by=staff)  # a newer version, not yet accepted
    if step != "training":
        train(staff)


@pytest.mark.real_gate
@pytest.mark.parametrize("step", GATE_STEPS)
def test_the_gate_holds_on_every_back_office_url_and_logs_each_refusal(client, world, step):
    """A staff member whose roles would open every page, one gate step short: no URL of the
    walk shows anything of the member, and every refusal leaves a refusal row. Two exceptions,
    both by design: the bare back-office home (it shows no personal data and is where every
    login lands), and, past the second factor, the privacy officer's pledge and training pages
    (so that the officer can put the gate right: kirakira/accounts/gate)."""
    staff = StaffFactory(roles=list(Role))
    client.force_login(staff)
    _stopped_at(step, staff, client)
    problems = []
    for url, name, _model_admin, _instance in _urls(world):
        bootstrap = step != "second_factor" and url.startswith("/en/backoffice/staff_gate/")
        before = StaffAccessRecord.objects.filter(action="refused").count()
        response = client.get(url)
        body = response.content.decode(errors="replace")
        if response.status_code == 200 and _shows_member(body, world["markers"]):
            problems.append(f"{url}: shown without {step}")
        if name != "index" and not bootstrap:
            if response.status_code == 200:
                problems.append(f"{url}: answered 200 without {step}")
            if StaffAccessRecord.objects.filter(action="refused").count() != before + 1:
                problems.append(f"{url}: refused without a refusal row")
    assert not problems, "\n".join(problems)
    shown = StaffAccessRecord.objects.exclude(action="refused").exclude(path__startswith="/en/backoffice/staff_gate/")
    assert not shown.exists()
