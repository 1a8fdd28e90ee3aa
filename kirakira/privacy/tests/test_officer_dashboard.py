"""The privacy officer's dashboard (issue 18 item 9): one page with the open rights requests by
days left, retention falling due, incidents and their clocks, the access review's state and
flags, the officer's desk, the scheduled jobs, key rotations, the unkept promises and the policy
versions; charts drawn by the site; each figure links to its list; the privacy roles only."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from kirakira.breaches import services as breach_services
from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.privacy.policy import checks
from kirakira.privacy.rights.models import RightsRequest

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 12, 1, 12, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
URL = "/en/backoffice/dashboard/"


@pytest.fixture
def officer():
    return StaffFactory(roles=[Role.PRIVACY_OFFICER])


def _requests(member):
    for days in (-2, 1, 2, 5, 20):
        RightsRequest.objects.create(
            member=member, kind="restriction", scope="notices", due_at=NOON + timedelta(days=days, hours=1)
        )


def test_the_officer_sees_every_duty_with_its_figures(officer):
    member = MemberFactory()
    with clock.frozen_at(NOON):
        _requests(member)
        breach_services.incident_record(
            actor=officer,
            detected_at=NOON - timedelta(hours=80),  # the 72 hours have passed
            description="A test incident.",
            cause="external_attack",
            items=["login_id"],
            scope="list",
            login_ids=[member.login_id],
            measures="Fixed.",
            member_advice="Nothing.",
        )
        client = Client()
        client.force_login(officer)
        page = client.get(URL)
        assert page.status_code == 200
        html = page.content.decode()
        cells = re.search(r'id="dash-requests".*?<tbody><tr>(.*?)</tr>', html, re.S).group(1)
        assert re.findall(r">(\d+)</a></td>", cells) == ["1", "2", "1", "0", "1"]
        assert "5 requests open" in html
        assert "Deadlines passed: 2" in html  # the members' notices and the Korean report
        assert "Deadlines running: 2" in html  # Japan's preliminary and final reports
        warnings = [m for m in checks.check_promises() if m.id.startswith("kirakira.policy.W")]
        assert f"{len(warnings)} warnings of the check" in html
        assert "breach_clocks" in html and "retention_sweep" in html
        assert "No key has been rotated yet." in html
        # Charts drawn by the site, nothing loaded from elsewhere.
        assert html.count('class="access-review-chart"') == 2
        assert not re.search(r'(src|href)="(https?:)?//', html)
        # Each figure links to its list, which opens.
        links = set(re.findall(r'href="(/en/backoffice/[^"#]+)"', html.split('id="dash-requests"', 1)[1]))
        assert len(links) >= 8
        for link in sorted(links):
            assert client.get(link).status_code == 200, link
        assert URL in client.get("/en/backoffice/").content.decode()


def test_only_the_privacy_roles_open_it():
    client = Client()
    client.force_login(StaffFactory(roles=[Role.PRIVACY_STAFF]))
    assert client.get(URL).status_code == 200
    clerk = Client()
    clerk.force_login(StaffFactory(roles=[Role.CUSTOMER_SERVICE]))
    assert clerk.get(URL).status_code == 403
    assert URL not in clerk.get("/en/backoffice/").content.decode()
    visitor = Client().get(URL)
    assert visitor.status_code == 302 and "/login/" in visitor["Location"]
