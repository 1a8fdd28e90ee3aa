"""The privacy roles see the schedule in the back office: each job, what it does, how often,
its last run and outcome and its next run. Nobody can change it there."""

from datetime import UTC, datetime

import pytest

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import StaffFactory
from kirakira.consultations import services as consultations_services
from kirakira.schedule import jobs
from kirakira.schedule.models import ScheduledJob
from kirakira.schedule.runner import run_due_jobs

pytestmark = pytest.mark.django_db

START = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
LIST = "/en/backoffice/schedule/scheduledjob/"


def log_in(client, *roles):
    client.force_login(StaffFactory(roles=list(roles)), backend="kirakira.accounts.backends.SessionUserBackend")


@pytest.fixture
def schedule_ran(monkeypatch):
    def broken(**kwargs):
        raise LookupError("nothing")

    monkeypatch.setattr(consultations_services, "close_idle", broken)
    with clock.frozen_at(START):
        run_due_jobs()


@pytest.mark.parametrize("role", [Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF])
def test_the_privacy_roles_see_each_jobs_interval_last_run_outcome_and_next_run(client, schedule_ran, role):
    log_in(client, role)
    response = client.get(LIST)
    assert response.status_code == 200
    page = response.content.decode()
    cl = response.context["cl"]
    assert [row.name for row in cl.result_list] == sorted(entry.name for entry in jobs.SCHEDULE)
    for column in ("name", "interval", "last_started_at", "last_outcome", "last_error_class", "next_run_at"):
        assert column in cl.list_display
    assert "every hour" in page and "every day" in page
    assert "Succeeded" in page and "Failed" in page
    assert "builtins.LookupError" in page  # the class of the failure, never its text
    assert "Deletes visitors&#x27; consultations whose confirmation link expired unused" in page


def test_the_job_page_is_read_only(client, schedule_ran):
    log_in(client, Role.PRIVACY_OFFICER)
    job = ScheduledJob.objects.get(name="prune_logins")
    response = client.get(f"{LIST}{job.pk}/change/")
    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()
    assert client.post(f"{LIST}{job.pk}/change/", {"name": "renamed"}).status_code == 403
    assert client.post(f"{LIST}{job.pk}/delete/").status_code == 403
    assert ScheduledJob.objects.get(pk=job.pk).name == "prune_logins"


@pytest.mark.parametrize("role", [Role.CUSTOMER_SERVICE, Role.ACCOUNTING, Role.ADMINISTRATOR])
def test_other_roles_do_not_see_the_schedule(client, schedule_ran, role):
    log_in(client, role)
    assert client.get(LIST).status_code == 403
