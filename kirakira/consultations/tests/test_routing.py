"""Who sees which consultation (policy C3, C10). Questions and proposals go to customer service;
complaints to customer service and the privacy officer; personal-information matters to the
privacy officer and privacy staff only. Accounting, administrators and staff with no role see
none. Members see only their own."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from knox.models import AuthToken

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.consultations import selectors, services
from kirakira.consultations.models import Consultation, Message
from kirakira.consultations.testing import open_for_member, open_for_visitor, page, upload

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
ADMIN = "/en/backoffice/consultations/consultation/"
CATEGORIES = ("question", "proposal", "complaint", "personal_information")

# role -> the categories it sees; None: no permission on consultations at all.
ROUTED = {
    Role.CUSTOMER_SERVICE: {"question", "proposal", "complaint"},
    Role.PRIVACY_OFFICER: {"complaint", "personal_information"},
    Role.PRIVACY_STAFF: {"personal_information"},
    Role.ACCOUNTING: None,
    Role.ADMINISTRATOR: None,
    "no role": None,
}
DESK = {"complaint", "personal_information"}
# The desk is the privacy roles' (customer service works complaints from its own list).
DESK_ROLES = {Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF}


def staff_for(role):
    return StaffFactory(roles=[] if role == "no role" else [role])


@pytest.fixture
def world():
    """One open consultation of each category from a member, each opened a different number of
    days before NOW; a closed one of each; a confirmed visitor's complaint; and a visitor's
    personal-information matter awaiting confirmation (seen by nobody)."""
    member = MemberFactory()
    opened = {}
    with clock.frozen_at(NOW - timedelta(days=40)):
        closed = {}
        for category in CATEGORIES:
            closed[category] = open_for_member(member, category=category)
            services.consultation_close(consultation_id=closed[category].pk, member=member)
        for days, category in zip((12, 9, 7, 3), CATEGORIES, strict=True):
            with clock.frozen_at(NOW - timedelta(days=days, hours=5)):
                opened[category] = open_for_member(member, category=category, files=[upload()])
    with clock.frozen_at(NOW - timedelta(days=1)):
        visitor = open_for_visitor(category="complaint", visitor_email="hanako.visitor@example.net")
        services.visitor_confirm(visitor.pk)
        pending = open_for_visitor(category="personal_information", visitor_email="jiro@example.net")
    return {"member": member, "opened": opened, "closed": closed, "visitor": visitor, "pending": pending}


def expected_for(role, world) -> set:
    categories = ROUTED[role] or set()
    everything = [*world["opened"].values(), *world["closed"].values(), world["visitor"]]
    return {c.pk for c in everything if c.category in categories}


ROLES = list(ROUTED)
IDS = [str(r) for r in ROLES]


@pytest.mark.parametrize("role", ROLES, ids=IDS)
def test_the_changelist_shows_exactly_the_routed_consultations(client, world, role):
    client.force_login(staff_for(role))
    response = client.get(ADMIN)
    if ROUTED[role] is None:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    shown = {c.pk for c in response.context["cl"].result_list}
    assert shown == expected_for(role, world)
    body = page(response)
    for consultation in Consultation.objects.all():
        assert (consultation.reference in body) == (consultation.pk in shown), consultation.category
    assert world["pending"].reference not in body
    # Filtering by a category that is not routed shows nothing more.
    for category in CATEGORIES:
        filtered = client.get(ADMIN, {"category": category})
        rows = {c.pk for c in filtered.context["cl"].result_list} if filtered.status_code == 200 else set()
        assert rows <= shown


@pytest.mark.parametrize("role", ROLES, ids=IDS)
def test_the_change_page_opens_only_for_routed_consultations(client, world, role):
    client.force_login(staff_for(role))
    expected = expected_for(role, world)
    for consultation in Consultation.objects.all():
        response = client.get(f"{ADMIN}{consultation.pk}/change/")
        if ROUTED[role] is None:
            assert response.status_code == 403
        elif consultation.pk in expected:
            assert response.status_code == 200, consultation.category
            assert "いつ頃仕上がりますか？" in page(response) or "見積もりをお願いします。" in page(response)
        else:
            assert response.status_code == 302, consultation.category
            assert response["Location"] == "/en/backoffice/"


@pytest.mark.parametrize("role", ROLES, ids=IDS)
def test_replying_is_refused_where_not_routed(
    client, world, role, mailoutbox, django_capture_on_commit_callbacks
):
    staff = staff_for(role)
    client.force_login(staff)
    expected = expected_for(role, world)
    for consultation in [*world["opened"].values(), world["visitor"], world["pending"]]:
        before = Message.objects.filter(consultation=consultation).count()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"{ADMIN}{consultation.pk}/change/", {"action": "reply", "body": "回答"})
        after = Message.objects.filter(consultation=consultation).count()
        if consultation.pk in expected:
            assert response.status_code == 302
            assert after == before + 1
        else:
            assert response.status_code in (302, 403), consultation.category
            if response.status_code == 302:
                assert response["Location"] == "/en/backoffice/"
            assert after == before, consultation.category
            # Without the permission at all: refused outright; with it, outside the routing: "no such".
            refusal = PermissionDenied if ROUTED[role] is None else services.ValidationError
            with pytest.raises(refusal):
                services.staff_reply(consultation_id=consultation.pk, actor=staff, body="回答")
            with pytest.raises(refusal):
                services.staff_reply(consultation_id=consultation.pk, actor=staff, body="メモ", internal=True)
            with pytest.raises(services.ValidationError):
                services.consultation_close(consultation_id=consultation.pk, actor=staff)
            assert Message.objects.filter(consultation=consultation).count() == before
    assert len(mailoutbox) == len([c for c in world["opened"].values() if c.pk in expected]) + (
        1 if world["visitor"].pk in expected else 0
    )


@pytest.mark.parametrize("role", ROLES, ids=IDS)
def test_the_desk_lists_open_complaints_and_personal_information_matters_with_their_age(client, world, role):
    client.force_login(staff_for(role))
    with clock.frozen_at(NOW):
        response = client.get(f"{ADMIN}desk/")
        listing = client.get(ADMIN)
    if ROUTED[role] is None:
        assert response.status_code == 403
        return
    if role not in DESK_ROLES:
        assert response.status_code == 403
        assert f"{ADMIN}desk/" not in page(listing)
        return
    assert response.status_code == 200
    categories = ROUTED[role] & DESK
    wanted = [world["opened"][c] for c in ("complaint", "personal_information") if c in categories]
    if "complaint" in categories:
        wanted.append(world["visitor"])
    rows = response.context["rows"]
    assert [row["consultation"].pk for row in rows] == [c.pk for c in wanted]  # oldest first
    expected_age = {world["opened"]["complaint"].pk: 7, world["opened"]["personal_information"].pk: 3}
    expected_age[world["visitor"].pk] = 1
    for row in rows:
        assert row["age_days"] == expected_age[row["consultation"].pk]
    body = page(response)
    for consultation in Consultation.objects.all():
        assert (consultation.reference in body) == (consultation.pk in {c.pk for c in wanted})
    # The changelist links to the desk only for those it has something for.
    assert (f"{ADMIN}desk/" in page(listing)) == bool(categories)


def test_the_officers_desk_in_numbers(client, world):
    """The privacy officer's desk: the open complaint (7 days), the personal-information matter
    (3 days) and the visitor's complaint (1 day), with their message counts; closed ones and
    the unconfirmed one are not there."""
    client.force_login(staff_for(Role.PRIVACY_OFFICER))
    services.staff_reply(
        consultation_id=world["opened"]["complaint"].pk,
        actor=staff_for(Role.PRIVACY_OFFICER),
        body="メモ",
        internal=True,
    )
    with clock.frozen_at(NOW):
        response = client.get(f"{ADMIN}desk/")
    rows = [
        (r["consultation"].reference, r["age_days"], r["consultation"].message_count)
        for r in response.context["rows"]
    ]
    assert rows == [
        (world["opened"]["complaint"].reference, 7, 1),
        (world["opened"]["personal_information"].reference, 3, 1),
        (world["visitor"].reference, 1, 1),
    ]
    assert "<td>7</td>" in page(response)


def test_customer_service_sees_a_visitors_email_masked_and_the_officer_in_full(client, world):
    visitor = world["visitor"]
    url = f"{ADMIN}{visitor.pk}/change/"

    client.force_login(staff_for(Role.CUSTOMER_SERVICE))
    body = page(client.get(url))
    assert "h****@example.net" in body
    assert "hanako.visitor@example.net" not in body
    assert "訪問 花子" in body  # the name is needed to address the visitor

    client.force_login(staff_for(Role.PRIVACY_OFFICER))
    body = page(client.get(url))
    assert "hanako.visitor@example.net" in body
    assert "h****@example.net" not in body


@pytest.mark.parametrize("role", ROLES, ids=IDS)
def test_the_staff_download_of_an_attachment_follows_the_routing(client, world, role):
    client.force_login(staff_for(role))
    expected = expected_for(role, world)
    for consultation in world["opened"].values():
        file = Message.objects.get(consultation=consultation).attachments.get()
        response = client.get(f"{ADMIN}{consultation.pk}/files/{file.pk}/")
        if ROUTED[role] is None:
            assert response.status_code == 403
        elif consultation.pk in expected:
            assert response.status_code == 200
        else:
            assert response.status_code == 404, consultation.category
    # An attachment of a routed consultation under another consultation's URL is not found.
    if ROUTED[role]:
        routed = next(c for c in world["opened"].values() if c.pk in expected)
        other = next(c for c in world["opened"].values() if c.pk != routed.pk)
        file = Message.objects.get(consultation=other).attachments.get()
        assert client.get(f"{ADMIN}{routed.pk}/files/{file.pk}/").status_code == 404


@pytest.mark.parametrize("role", ROLES, ids=IDS)
def test_the_selectors_agree_with_the_pages(world, role):
    staff = staff_for(role)
    assert {c.pk for c in selectors.for_staff(staff)} == expected_for(role, world)


# --- members --------------------------------------------------------------------------------------


def _api(client, user, path, method="get", **data):
    _instance, token = AuthToken.objects.create(user)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if method == "post":
        return client.post(f"/api/v1/consultations{path}", data, content_type="application/json", **headers)
    return client.get(f"/api/v1/consultations{path}", **headers)


def test_members_are_isolated_from_each_other(client):
    alice, bob = MemberFactory(), MemberFactory()
    theirs = open_for_member(alice, subject="アリスの相談", files=[upload()])
    file = Message.objects.get(consultation=theirs).attachments.get()
    own = open_for_member(bob, subject="ボブの相談")

    client.force_login(bob)
    base = f"/consultations/{theirs.pk}/"
    assert client.get(base).status_code == 404
    assert client.get(f"/en{base}").status_code == 404
    for action in ("reply", "close", "reopen"):
        assert client.post(base, {"action": action, "body": "横から"}).status_code == 404
    assert client.get(f"{base}files/{file.pk}/").status_code == 404
    # Alice's file under Bob's own consultation is not found either.
    assert client.get(f"/consultations/{own.pk}/files/{file.pk}/").status_code == 404
    listing = page(client.get("/consultations/"))
    assert theirs.reference not in listing and "アリスの相談" not in listing
    assert own.reference in listing

    assert _api(client, bob, f"/{theirs.pk}").status_code == 404
    assert _api(client, bob, f"/{theirs.pk}/messages", "post", body="横から").status_code == 404
    assert [c["id"] for c in _api(client, bob, "").json()["results"]] == [str(own.pk)]

    theirs.refresh_from_db()
    assert theirs.status == "open"
    assert Message.objects.filter(consultation=theirs).count() == 1
    assert "横から" not in [m.body for m in Message.objects.all()]

    # Alice still sees hers.
    client.force_login(alice)
    assert client.get(base).status_code == 200
    assert client.get(f"{base}files/{file.pk}/").status_code == 200
    assert _api(client, alice, f"/{theirs.pk}").status_code == 200


def test_staff_have_no_member_pages_for_consultations(client):
    consultation = open_for_member()
    client.force_login(staff_for(Role.CUSTOMER_SERVICE))
    assert client.get(f"/consultations/{consultation.pk}/").status_code == 404


def test_a_visitor_gets_no_member_pages(client):
    consultation = open_for_member()
    response = client.get(f"/consultations/{consultation.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
