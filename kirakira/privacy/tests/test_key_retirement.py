"""Master-key retirement on the backup schedule (policy P19: keys destroyed, backups included).

A master key goes through: active → rotated off (``rotate_master_key``) → retired once every
backup taken before the rotation has aged out (``retire_master_key``) → removed from the
configuration (``check`` warns until it is)."""

import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kirakira.common import clock
from kirakira.privacy.crypto import checks as crypto_checks
from kirakira.privacy.crypto import datakeys
from kirakira.privacy.crypto.rotation import RetirementRefused, retire_master_key, retirement_due
from kirakira.privacy.models import DataKey, MasterKeyEvent
from kirakira.privacy.policy import checks as policy_checks
from kirakira.privacy.retention import journal

from .test_shredding_and_rotation import _fresh_keyring, make_secret, new_key, use_keys  # noqa: F401 - autouse fixture

pytestmark = pytest.mark.django_db

T0 = clock.now().replace(microsecond=0)


@pytest.fixture(autouse=True)
def _journal(settings, tmp_path):
    settings.DISPOSAL_JOURNAL = tmp_path / "journal.jsonl"
    settings.BACKUP_RETENTION_DAYS = 35


@pytest.fixture
def rotated(settings, django_capture_on_commit_callbacks):
    keys = {"old": new_key(), "new": new_key()}
    use_keys(settings, f"old:{keys['old']}", "old")
    owners = [uuid.uuid4() for _ in range(3)]
    with clock.frozen_at(T0):
        for owner in owners:
            make_secret(owner)
        use_keys(settings, f"old:{keys['old']},new:{keys['new']}", "new")
        call_command("rotate_master_key", stdout=StringIO())
    return keys


def test_a_rotation_records_which_keys_it_moved_off_and_when(rotated):
    (event,) = MasterKeyEvent.objects.all()
    assert (event.master_key_id, event.kind, event.at, event.data_keys) == ("old", "rotated_off", T0, 3)
    assert retirement_due("old") == T0 + timedelta(days=35)
    assert retirement_due("new") is None


def test_the_active_key_or_one_still_wrapping_data_keys_is_not_retired(settings):
    keys = {"a": new_key(), "b": new_key()}
    use_keys(settings, f"a:{keys['a']},b:{keys['b']}", "a")
    make_secret(uuid.uuid4())
    with pytest.raises(RetirementRefused, match="'a' is the active master key"):
        retire_master_key("a")
    use_keys(settings, f"a:{keys['a']},b:{keys['b']}", "b")
    with pytest.raises(
        RetirementRefused, match="1 data key.* still wrapped under 'a': run rotate_master_key first"
    ):
        retire_master_key("a")
    assert not MasterKeyEvent.objects.filter(kind="retired").exists()
    assert journal.entries() == []


def test_a_key_is_retired_only_after_the_backups_that_need_it_have_aged_out(
    rotated, django_capture_on_commit_callbacks
):
    with pytest.raises(RetirementRefused, match="kept until .* --early"):
        retire_master_key("old", now=T0 + timedelta(days=34))
    with django_capture_on_commit_callbacks(execute=True):
        retirement = retire_master_key("old", now=T0 + timedelta(days=35))
    assert retirement.rotated_off_at == T0
    assert MasterKeyEvent.objects.filter(master_key_id="old", kind="retired").count() == 1
    (entry,) = journal.entries()
    assert entry["kind"] == "master_key_retired" and entry["key_id"] == "old"
    with pytest.raises(RetirementRefused, match="already retired"):
        retire_master_key("old", now=T0 + timedelta(days=36))


def test_early_retirement_is_possible_when_the_operator_says_so(rotated, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("retire_master_key", "old", "--early", stdout=(out := StringIO()))
    assert "remove it from PRIVACY_MASTER_KEYS" in out.getvalue()
    with pytest.raises(CommandError, match="already retired"):
        call_command("retire_master_key", "old", "--early")


def test_check_warns_while_a_retired_key_is_still_configured(
    rotated, settings, django_capture_on_commit_callbacks
):
    assert crypto_checks.check_retired_master_keys() == []
    with django_capture_on_commit_callbacks(execute=True):
        retire_master_key("old", early=True)
    (warning,) = crypto_checks.check_retired_master_keys()
    assert warning.id == "kirakira.privacy.W040" and "'old'" in warning.msg
    use_keys(settings, f"new:{rotated['new']}", "new")
    assert crypto_checks.check_retired_master_keys() == []
    # What the old key wrapped is still readable: every live data key was moved off it.
    assert DataKey.objects.filter(destroyed_at__isnull=True, master_key_id="new").count() == 3
    datakeys.clear_cache()


def test_the_policy_states_backups_become_unreadable_because_retirement_exists():
    ids = {message.id for message in policy_checks.check_promises()}
    assert "kirakira.policy.W019" not in ids
