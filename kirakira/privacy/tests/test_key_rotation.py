"""Master-key rotation in batches: resumable after a kill or an error, one at a time, and every
rotation recorded in the append-only key rotation register (issue 18, item 7)."""

import re
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kirakira.common import clock
from kirakira.common.roles import Role
from kirakira.common.testing import StaffFactory
from kirakira.privacy.keys import services
from kirakira.privacy.keys.models import KeyRegisterError, KeyRotation
from kirakira.privacy.models import DataKey, MasterKeyEvent

from .test_shredding_and_rotation import (  # noqa: F401 - autouse fixture
    _fresh_keyring,
    assert_reads_original,
    key_rows,
    make_secret,
    new_key,
    use_keys,
)

pytestmark = pytest.mark.django_db

T0 = clock.now().replace(microsecond=0)
REGISTER = "/en/backoffice/privacy/keyrotation/"


class Killed(BaseException):
    """The process dies (SIGKILL): nothing in the rotation gets to record it."""


@pytest.fixture
def keys(settings):
    keys = {"old": new_key(), "new": new_key()}
    use_keys(settings, f"old:{keys['old']}", "old")
    return keys


def seven_secrets_then_new_active(settings, keys) -> list:
    secrets = [make_secret(uuid.uuid4(), n) for n in range(7)]
    use_keys(settings, f"old:{keys['old']},new:{keys['new']}", "new")
    return secrets


def stop_at_batch(monkeypatch, number: int, error: BaseException) -> None:
    def after_batch(rotation, batch):
        if batch == number:
            raise error

    monkeypatch.setattr(services, "_after_batch", after_batch)


def masters() -> list[str]:
    return sorted(DataKey.objects.values_list("master_key_id", flat=True))


def rotate(*args) -> str:
    out = StringIO()
    call_command("rotate_master_key", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


# --- batches, kill and resume -------------------------------------------------------------------
def test_a_rotation_killed_mid_run_is_refused_while_fresh_and_resumed_once_stale(settings, keys, monkeypatch):
    with clock.frozen_at(T0):
        secrets = seven_secrets_then_new_active(settings, keys)
        stop_at_batch(monkeypatch, 2, Killed())

        with pytest.raises(Killed):
            rotate("--batch-size", "3")

        # The first batch stays done; the second was rolled back with the process.
        assert masters() == ["new"] * 3 + ["old"] * 4
        (rotation,) = KeyRotation.objects.all()
        assert (rotation.state, rotation.rows_done, rotation.runs) == ("running", 3, 1)
        assert (rotation.from_keys, rotation.to_key, rotation.per_key) == (["old"], "new", {"old": 3})
        assert rotation.heartbeat_at == T0
        monkeypatch.setattr(services, "_after_batch", lambda rotation, batch: None)

        # Its heartbeat is recent: it may still be alive, so a second run is refused.
        clock.advance(timedelta(seconds=90))
        with pytest.raises(
            CommandError, match=r"already running .*nothing was done.*run this command again after"
        ):
            rotate("--batch-size", "3")
        assert masters() == ["new"] * 3 + ["old"] * 4

        # Two minutes after its last batch it is taken for dead and resumed.
        clock.advance(timedelta(seconds=31))
        out = rotate("--batch-size", "3")

    assert "Resumed the rotation started" in out
    assert re.search(
        r"Re-wrapped 7 data key\(s\) under master key 'new' \(7 off 'old'\); 0 were already", out
    ), out
    assert masters() == ["new"] * 7
    (rotation,) = KeyRotation.objects.all()
    assert (rotation.state, rotation.rows_done, rotation.runs, rotation.per_key) == (
        "finished",
        7,
        2,
        {"old": 7},
    )
    assert rotation.finished_at == T0 + timedelta(seconds=121)
    (event,) = MasterKeyEvent.objects.all()
    assert (event.master_key_id, event.kind, event.data_keys, event.at) == (
        "old",
        "rotated_off",
        7,
        rotation.finished_at,
    )
    use_keys(settings, f"new:{keys['new']}", "new")
    for n, secret in enumerate(secrets):
        assert_reads_original(secret, n)


def test_a_rotation_stopped_by_an_error_is_recorded_as_interrupted_and_finished_by_the_next_run(
    settings, keys, monkeypatch
):
    seven_secrets_then_new_active(settings, keys)
    stop_at_batch(monkeypatch, 3, RuntimeError("disk full"))

    with pytest.raises(CommandError) as excinfo:
        rotate("--batch-size", "2")

    assert "4 value(s) were moved before it stopped" in str(excinfo.value)
    assert "recorded as interrupted" in str(excinfo.value)
    (rotation,) = KeyRotation.objects.all()
    assert (rotation.state, rotation.rows_done, rotation.error) == (
        "interrupted",
        4,
        "stopped by an error (RuntimeError)",
    )
    assert masters() == ["new"] * 4 + ["old"] * 3
    assert not MasterKeyEvent.objects.exists()  # the key is not rotated off until every data key is

    monkeypatch.setattr(services, "_after_batch", lambda rotation, batch: None)
    rotate("--batch-size", "2")  # at once: an interrupted rotation is not alive

    (rotation,) = KeyRotation.objects.all()
    assert (rotation.state, rotation.rows_done, rotation.runs, rotation.error) == ("finished", 7, 2, "")
    assert MasterKeyEvent.objects.get().data_keys == 7


def test_each_batch_is_written_on_its_own(settings, keys, monkeypatch):
    seven_secrets_then_new_active(settings, keys)
    seen = []

    def after_batch(rotation, batch):
        seen.append((batch, DataKey.objects.filter(master_key_id="new").count(), rotation.rows_done))

    monkeypatch.setattr(services, "_after_batch", after_batch)
    rotate("--batch-size", "3")

    assert seen == [(1, 3, 3), (2, 6, 6), (3, 7, 7)]


def test_a_missing_master_key_stops_the_rotation_naming_it_and_records_the_interruption(settings):
    gone, kept, target = new_key(), new_key(), new_key()
    use_keys(settings, f"gone:{gone}", "gone")
    for n in range(3):
        make_secret(uuid.uuid4(), n)
    use_keys(settings, f"gone:{gone},kept:{kept}", "kept")
    make_secret(uuid.uuid4(), 3)
    use_keys(settings, f"kept:{kept},target:{target}", "target")
    before = key_rows()

    with pytest.raises(CommandError) as excinfo:
        rotate()

    assert "'gone'" in str(excinfo.value) and "0 value(s) were moved" in str(excinfo.value)
    assert key_rows() == before  # the batch held a key under 'gone': nothing of it written
    (rotation,) = KeyRotation.objects.all()
    assert rotation.state == "interrupted" and "'gone'" in rotation.error
    assert rotation.from_keys == ["gone", "kept"]

    use_keys(settings, f"gone:{gone},kept:{kept},target:{target}", "target")
    out = rotate()

    assert "Resumed" in out and "(3 off 'gone', 1 off 'kept')" in out
    assert masters() == ["target"] * 4
    rotation.refresh_from_db()
    assert (rotation.state, rotation.rows_done, rotation.per_key) == ("finished", 4, {"gone": 3, "kept": 1})
    assert sorted(MasterKeyEvent.objects.values_list("master_key_id", "data_keys")) == [
        ("gone", 3),
        ("kept", 1),
    ]


def test_an_unfinished_rotation_to_another_key_is_finished_first(settings, keys, monkeypatch):
    seven_secrets_then_new_active(settings, keys)
    stop_at_batch(monkeypatch, 1, RuntimeError())
    with pytest.raises(CommandError):
        rotate()
    third = new_key()
    use_keys(settings, f"old:{keys['old']},new:{keys['new']},third:{third}", "third")

    with pytest.raises(CommandError) as excinfo:
        rotate()

    message = str(excinfo.value)
    assert "unfinished master-key rotation to 'new'" in message
    assert "Set PRIVACY_ACTIVE_MASTER_KEY=new again" in message
    assert KeyRotation.objects.count() == 1
    assert masters() == ["old"] * 7


def test_a_second_rotation_while_one_runs_is_refused_and_one_of_the_other_kind_is_not(settings, keys):
    seven_secrets_then_new_active(settings, keys)
    KeyRotation.objects.create(kind=KeyRotation.Kind.MASTER, to_key="new", from_keys=["old"])
    before = key_rows()

    with pytest.raises(CommandError, match="A master-key rotation to 'new' is already running"):
        rotate()

    assert key_rows() == before
    assert KeyRotation.objects.count() == 1
    call_command("rotate_blind_index_key", stdout=StringIO())  # another kind: not blocked
    assert KeyRotation.objects.filter(kind="blind_index", state="finished").count() == 1


def test_two_rotations_starting_at_once_cannot_both_be_unfinished(keys):
    KeyRotation.objects.create(kind=KeyRotation.Kind.MASTER, to_key="new")
    with pytest.raises(Exception, match="(?i)unique"):
        KeyRotation.objects.create(kind=KeyRotation.Kind.MASTER, to_key="new")


def test_every_rotation_is_recorded_even_when_there_is_nothing_to_move(settings, keys):
    make_secret(uuid.uuid4())

    with clock.frozen_at(T0):
        out = rotate()

    assert "Re-wrapped 0 data key(s) under master key 'old' (none); 1 were already under it." in out
    (rotation,) = KeyRotation.objects.all()
    assert (rotation.state, rotation.started_at, rotation.finished_at, rotation.rows_done) == (
        "finished",
        T0,
        T0,
        0,
    )
    assert rotation.started_by_os_user == services.os_user() != ""
    assert rotation.started_by is None
    assert not MasterKeyEvent.objects.exists()


def test_a_rotation_started_from_the_back_office_records_the_staff_account(settings, keys):
    seven_secrets_then_new_active(settings, keys)
    officer = StaffFactory(roles=[Role.PRIVACY_OFFICER])

    outcome = services.master_key_rotate(started_by=officer)

    assert (outcome.rotation.started_by, outcome.rotation.started_by_os_user) == (officer, "")
    assert outcome.rotation.rows_done == 7


def test_the_batch_size_must_be_positive(keys):
    with pytest.raises(CommandError, match="at least 1"):
        rotate("--batch-size", "0")
    assert not KeyRotation.objects.exists()


# --- the register is append-only ---------------------------------------------------------------
def test_register_rows_cannot_be_edited_or_deleted(settings, keys):
    seven_secrets_then_new_active(settings, keys)
    rotate()
    rotation = KeyRotation.objects.get()

    with pytest.raises(KeyRegisterError):
        KeyRotation.objects.update(rows_done=0)
    with pytest.raises(KeyRegisterError):
        KeyRotation.objects.filter(pk=rotation.pk).update(state="running")
    with pytest.raises(KeyRegisterError):
        KeyRotation.objects.all().delete()
    with pytest.raises(KeyRegisterError):
        rotation.delete()
    rotation.rows_done = 0
    with pytest.raises(KeyRegisterError):
        rotation.save()
    with pytest.raises(KeyRegisterError, match="finished"):
        KeyRotation.objects.record_progress(KeyRotation.objects.get(), heartbeat_at=clock.now())
    with pytest.raises(KeyRegisterError, match="only its progress"):
        KeyRotation.objects.record_progress(KeyRotation.objects.get(), to_key="other")

    stored = KeyRotation.objects.get()
    assert (stored.state, stored.rows_done, stored.to_key) == ("finished", 7, "new")


@pytest.mark.parametrize("role", [Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF])
def test_the_privacy_roles_see_the_register_read_only(client, settings, keys, role):
    seven_secrets_then_new_active(settings, keys)
    rotate()
    rotation = KeyRotation.objects.get()
    client.force_login(StaffFactory(roles=[role]))

    listing = client.get(REGISTER)
    detail = client.get(f"{REGISTER}{rotation.pk}/change/")

    assert listing.status_code == detail.status_code == 200
    page = detail.content.decode()
    assert "old → new" in page and "old: 7" in page and services.os_user() in page
    assert 'name="_save"' not in page
    assert client.get(f"{REGISTER}add/").status_code == 403
    assert client.post(f"{REGISTER}{rotation.pk}/delete/", {"post": "yes"}).status_code == 403
    assert KeyRotation.objects.filter(pk=rotation.pk).exists()


@pytest.mark.parametrize("viewer", [{"roles": [Role.ADMINISTRATOR]}, {"is_superuser": True}])
def test_other_roles_do_not_see_the_register(client, viewer):
    client.force_login(StaffFactory(**viewer))
    assert client.get(REGISTER).status_code == 403
