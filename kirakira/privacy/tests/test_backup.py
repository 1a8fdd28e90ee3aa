"""Backups that respect disposal (issue 15 item 4): ``manage.py backup`` and ``restore``.

The round trip is real: the backup is taken of the test database (pg_dump on PostgreSQL, the
online backup API on SQLite), and ``restore`` runs as its own process against a new, empty
database of the same kind, as an operator would run it. What happened after the backup (a
withdrawal, a destroyed key, a deletion the member asked for, a record whose period ended) must
not come back.
"""

import json
import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from knox.models import AuthToken

from kirakira.accounts.models import User
from kirakira.common import clock
from kirakira.common.testing import MemberFactory, restore_migration_data
from kirakira.orders.testing import place_order
from kirakira.privacy.backup import container
from kirakira.privacy.backup.container import ArchiveError
from kirakira.privacy.backup.services import backup_create, restore
from kirakira.privacy.crypto import datakeys
from kirakira.privacy.crypto.keyring import reset_keyring
from kirakira.privacy.models import DataKey
from kirakira.privacy.retention import journal
from kirakira.privacy.retention.withdrawal import member_withdraw
from kirakira.privacy.rights import services as rights_services
from kirakira.privacy.rights.models import RightsRequest
from kirakira.usage.models import UsageRecord

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def journal_file(settings, tmp_path):
    settings.DISPOSAL_JOURNAL = tmp_path / "disposal-journal.jsonl"
    return settings.DISPOSAL_JOURNAL


# --- a new, empty database of the same kind as the test database --------------------------------


@pytest.fixture
def empty_database(tmp_path):
    """A DATABASE_URL naming a new, empty database (dropped afterwards on PostgreSQL)."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    import psycopg

    db = connection.settings_dict
    name = f"kk_restore_{secrets.token_hex(4)}"
    params = {
        "host": db["HOST"] or "127.0.0.1",
        "port": db["PORT"] or 5432,
        "user": db["USER"],
        "dbname": "postgres",
    }
    if db.get("PASSWORD"):
        params["password"] = db["PASSWORD"]
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    yield f"postgres://{db['USER']}{password}@{params['host']}:{params['port']}/{name}"
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _environment(database_url: str, **overrides) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": database_url,
        "PRIVACY_MASTER_KEYS": settings.PRIVACY_MASTER_KEYS,
        "PRIVACY_ACTIVE_MASTER_KEY": settings.PRIVACY_ACTIVE_MASTER_KEY,
        "PRIVACY_BLIND_INDEX_KEY": settings.PRIVACY_BLIND_INDEX_KEY,
        "BACKUP_KEY": settings.BACKUP_KEY,
        "DISPOSAL_JOURNAL": str(settings.DISPOSAL_JOURNAL),
    }
    env.update(overrides)
    return env


def manage(database_url: str, *args: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_environment(database_url, **env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


INSPECT = """
import json
from kirakira.accounts.models import User
from kirakira.orders.models import Order
from kirakira.privacy.models import DataKey, RetainedRecord
from kirakira.usage.models import UsageRecord
from knox.models import AuthToken
ids = json.loads({ids!r})
alice, bob, carol = (User._base_manager.get(pk=ids[n]) for n in ("alice", "bob", "carol"))
print(json.dumps({{
    "alice_name": alice.name,
    "alice_orders": [o.sns_account_id for o in Order.objects.filter(member=alice)],
    "alice_tokens": AuthToken.objects.filter(user=alice).count(),
    "bob_active": bob.is_active,
    "bob_withdrawn": bob.withdrawn_at is not None,
    "bob_login_id": bob.login_id,
    "bob_retained": RetainedRecord.objects.filter(subject_id=bob.pk).count(),
    "bob_orders": Order.objects.filter(member=bob).count(),
    "carol_key_destroyed": DataKey.objects.get(owner_id=carol.pk).destroyed_at is not None,
    "carol_key_wrapped": DataKey.objects.get(owner_id=carol.pk).wrapped_key is not None,
    "old_usage": UsageRecord.objects.filter(pk=ids["old_usage"]).exists(),
    "tables": 1,
}}))
"""


def inspect(database_url: str, ids: dict) -> dict:
    done = manage(database_url, "shell", "-c", INSPECT.format(ids=json.dumps(ids)))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def table_count(database_url: str) -> int:
    done = manage(
        database_url,
        "shell",
        "-c",
        "from django.db import connection; print(len(connection.introspection.table_names()))",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return int(done.stdout.strip().splitlines()[-1])


# --- the round trip --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_restored_backup_never_brings_back_what_was_disposed_of_after_it(
    tmp_path, journal_file, empty_database, django_capture_on_commit_callbacks
):
    restore_migration_data()
    alice = MemberFactory(login_id="alice", name="Alice Kirakira")
    bob = MemberFactory(login_id="bob", name="Bob Kirakira")
    carol = MemberFactory(login_id="carol", name="Carol Kirakira")
    place_order(member=alice, sns_account_id="alice.sns")
    place_order(member=bob, sns_account_id="bob.sns")
    AuthToken.objects.create(user=alice)
    old_usage = UsageRecord.objects.create(
        member=alice,
        occurred_at=clock.now() - timedelta(days=200),  # past the usage log's 6 months
        ip_address="198.51.100.7",
        method="GET",
        route="home",
        status_code=200,
    )
    ids = {"alice": str(alice.pk), "bob": str(bob.pk), "carol": str(carol.pk), "old_usage": old_usage.pk}

    result = backup_create(tmp_path / "kirakira.backup")
    assert result.keys == DataKey.objects.count() >= 3
    archive = (tmp_path / "kirakira.backup").read_bytes()
    assert b"Alice" not in archive and b"alice.sns" not in archive and b"alice" not in archive
    assert oct((tmp_path / "kirakira.backup").stat().st_mode & 0o777) == "0o600"

    # After the backup: Bob withdraws, Carol's key is destroyed, Alice has her tokens deleted.
    with django_capture_on_commit_callbacks(execute=True):
        member_withdraw(user=bob, checked_hash=bob.password)
    with django_capture_on_commit_callbacks(execute=True):
        assert datakeys.shred(carol.pk)
    officer = MemberFactory(login_id="officer", is_staff=True, is_superuser=True)
    request = RightsRequest.objects.create(
        member=alice, kind="deletion", due_at=clock.now() + timedelta(days=10), entries=["knox.AuthToken"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        rights_services.request_complete(request.pk, actor=officer, answer="done")
    assert not AuthToken.objects.filter(user=alice).exists()
    kinds = [entry["kind"] for entry in journal.entries()]
    assert kinds == [journal.MEMBER_WITHDRAWN, journal.KEY_DESTROYED, journal.RIGHTS_DELETION]

    done = manage(empty_database, "restore", str(tmp_path / "kirakira.backup"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "member_withdrawn: 1" in done.stdout and "key_destroyed: 1" in done.stdout
    assert "rights_deletion: 1" in done.stdout
    state = inspect(empty_database, ids)
    assert state["alice_name"] == "Alice Kirakira"  # what nobody disposed of reads as before
    assert state["alice_orders"] == ["alice.sns"]
    assert state["alice_tokens"] == 0  # deleted at her request after the backup
    assert not state["bob_active"] and state["bob_withdrawn"]
    assert state["bob_login_id"].startswith("withdrawn-")
    assert state["bob_retained"] >= 2 and state["bob_orders"] == 0  # his records moved to separate storage
    assert state["carol_key_destroyed"] and not state["carol_key_wrapped"]
    assert not state["old_usage"]  # the sweep after the restore disposed of it


@pytest.mark.django_db(transaction=True)
def test_without_the_journal_the_same_backup_would_bring_them_back(
    tmp_path, journal_file, empty_database, django_capture_on_commit_callbacks
):
    """The control of the test above: the replay is what keeps Bob withdrawn."""
    restore_migration_data()
    bob = MemberFactory(login_id="bob", name="Bob Kirakira")
    alice = MemberFactory(login_id="alice", name="Alice Kirakira")
    carol = MemberFactory(login_id="carol", name="Carol Kirakira")
    datakeys.key_for_owner(carol.pk)
    old = UsageRecord.objects.create(
        member=alice,
        occurred_at=clock.now(),
        ip_address="198.51.100.7",
        method="GET",
        route="home",
        status_code=200,
    )
    backup_create(tmp_path / "b")
    with django_capture_on_commit_callbacks(execute=True):
        member_withdraw(user=bob, checked_hash=bob.password)
    done = manage(
        empty_database, "restore", str(tmp_path / "b"), DISPOSAL_JOURNAL=str(tmp_path / "none.jsonl")
    )
    assert done.returncode == 0, done.stderr[-3000:]
    ids = {"alice": str(alice.pk), "bob": str(bob.pk), "carol": str(carol.pk), "old_usage": old.pk}
    state = inspect(empty_database, ids)
    assert state["bob_active"] and not state["bob_withdrawn"] and state["bob_login_id"] == "bob"


# --- bad input: refused with a clear message, nothing changed ----------------------------------


@pytest.fixture
def taken(tmp_path, journal_file, transactional_db):
    restore_migration_data()
    member = MemberFactory(login_id="dora", name="Dora Kirakira")
    datakeys.key_for_owner(member.pk)
    backup_create(tmp_path / "b")
    return tmp_path / "b"


def _counts():
    return User.objects.count(), DataKey.objects.count()


def test_a_restore_into_a_database_that_is_not_empty_is_refused(taken):
    before = _counts()
    with pytest.raises(
        CommandError, match="is not empty .* a restore goes only into an empty database"
    ) as err:
        call_command("restore", str(taken))
    assert "Nothing was restored" in str(err.value)
    assert _counts() == before


def test_an_archive_under_another_key_is_refused(taken, settings):
    import base64

    settings.BACKUP_KEY = base64.b64encode(os.urandom(32)).decode()
    with pytest.raises(ArchiveError, match="encrypted with another BACKUP_KEY"):
        restore(taken)


def test_a_truncated_or_damaged_archive_is_refused_before_the_database_is_touched(
    taken, tmp_path, empty_database
):
    data = taken.read_bytes()
    (tmp_path / "cut.keys").write_bytes(Path(f"{taken}.keys").read_bytes())
    for cut in (10, len(data) // 2, len(data) - 1):
        (tmp_path / "cut").write_bytes(data[:cut])
        with pytest.raises(ArchiveError, match="truncated|not a Kirakira backup"):
            restore(tmp_path / "cut")
    damaged = bytearray(data)
    damaged[len(data) // 2] ^= 1
    (tmp_path / "cut").write_bytes(bytes(damaged))
    with pytest.raises(ArchiveError, match="damaged: part 1 does not authenticate"):
        restore(tmp_path / "cut")
    # As the operator would run it, into an empty database: refused, and it stays empty.
    (tmp_path / "cut").write_bytes(data[:-5])
    done = manage(empty_database, "restore", str(tmp_path / "cut"))
    assert done.returncode != 0
    assert "is truncated" in done.stderr and "Nothing was restored" in done.stderr
    assert "Traceback" not in done.stderr
    assert table_count(empty_database) == 0


def test_a_key_store_of_another_backup_or_none_is_refused(taken, tmp_path):
    backup_create(tmp_path / "other")
    with pytest.raises(ArchiveError, match="belongs to another backup"):
        restore(taken, tmp_path / "other.keys")
    with pytest.raises(ArchiveError, match="cannot be opened"):
        restore(taken, tmp_path / "missing.keys")
    with pytest.raises(ArchiveError, match="is not a key store archive"):
        restore(taken, taken)


def test_a_backup_whose_master_key_is_not_configured_is_refused(taken, settings):
    from kirakira.privacy.crypto.keyring import new_key_spec

    spec = new_key_spec("other-1")
    settings.PRIVACY_MASTER_KEYS, settings.PRIVACY_ACTIVE_MASTER_KEY = spec, "other-1"
    reset_keyring()
    try:
        journal.append(journal.MASTER_KEY_RETIRED, key_id=settings_master_id())
        with pytest.raises(ArchiveError, match=r"wrapped under master key .*, retired on .*not configured"):
            restore(taken)
    finally:
        reset_keyring()


def settings_master_id() -> str:
    return DataKey.objects.values_list("master_key_id", flat=True).first()


def test_a_backup_never_overwrites_and_needs_its_key(taken, settings):
    with pytest.raises(CommandError, match="already exists: choose a new name"):
        call_command("backup", "--output", str(taken))
    settings.BACKUP_KEY = ""
    with pytest.raises(CommandError, match="BACKUP_KEY is not set"):
        call_command("backup", "--output", str(taken.with_name("new")))
    assert not taken.with_name("new").exists() and not taken.with_name("new.keys").exists()


# --- the container format ------------------------------------------------------------------------


def test_the_container_round_trips_many_parts_and_notices_every_cut(tmp_path, monkeypatch):
    monkeypatch.setattr(container, "CHUNK", 64)
    key = os.urandom(32)
    payload = os.urandom(64 * 5 + 17)
    with container.Writer(tmp_path / "x", b"D", key) as sink:
        sink.write(payload[:100])
        sink.write(payload[100:])

    class Sink(bytearray):
        def write(self, data):
            self.extend(data)

    out = Sink()
    container.decrypt_to(tmp_path / "x", b"D", out, key)
    assert bytes(out) == payload
    whole = (tmp_path / "x").read_bytes()
    for cut in range(len(whole)):  # every possible truncation, between parts included
        (tmp_path / "y").write_bytes(whole[:cut])
        with pytest.raises(ArchiveError):
            container.decrypt_to(tmp_path / "y", b"D", Sink(), key)
    (tmp_path / "y").write_bytes(whole + b"\0")
    with pytest.raises(ArchiveError, match="data follows its last part"):
        container.decrypt_to(tmp_path / "y", b"D", Sink(), key)
