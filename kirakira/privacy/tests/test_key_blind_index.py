"""Blind-index keys with IDs and their rotation: every stored index value tells which key made
it, lookups find a value under any configured key while ``rotate_blind_index_key`` re-indexes
in batches (resumable after a kill), and a unique index holds across old and new values."""

import base64
import re
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction

from kirakira.accounts.models import User
from kirakira.common import clock
from kirakira.common.testing import MemberFactory
from kirakira.privacy.crypto import datakeys
from kirakira.privacy.crypto.fields import blind_index_fields, index_key_id
from kirakira.privacy.crypto.keyring import build_keyring, keyring, reset_keyring
from kirakira.privacy.keys import services
from kirakira.privacy.keys.models import KeyRotation
from kirakira.privacy.tests.testapp.models import Secret

from .test_shredding_and_rotation import _fresh_keyring, new_key  # noqa: F401 - autouse fixture

pytestmark = pytest.mark.django_db

T0 = clock.now().replace(microsecond=0)
PHONES = [f"090-1111-{n:04d}" for n in range(5)]


class Killed(BaseException):
    """The process dies (SIGKILL)."""


def use_index_keys(settings, *, legacy: str = "", keys: str = "", active: str = "") -> None:
    settings.PRIVACY_BLIND_INDEX_KEY = legacy
    settings.PRIVACY_BLIND_INDEX_KEYS = keys
    settings.PRIVACY_ACTIVE_BLIND_INDEX_KEY = active
    reset_keyring()
    datakeys.clear_cache()


@pytest.fixture
def rotating(settings):
    """Data indexed under the single-key setting, then a new key "bi2" made active."""
    legacy, bi2 = new_key(), new_key()
    use_index_keys(settings, legacy=legacy)
    members = [MemberFactory(email=f"person{n}@example.com") for n in range(3)]
    secrets = [Secret.objects.create(member_id=uuid.uuid4(), phone=phone) for phone in PHONES]
    use_index_keys(settings, legacy=legacy, keys=f"bi2:{bi2}", active="bi2")
    return {"legacy": legacy, "bi2": bi2, "members": members, "secrets": secrets}


def index_values() -> dict:
    """Every stored blind-index value, by (model, field, pk)."""
    values = {}
    for model, field in blind_index_fields():
        for pk, value in model._base_manager.values_list("pk", field.attname):
            if value is not None:
                values[(model._meta.label, field.name, pk)] = value
    return values


def key_ids() -> list[str]:
    return sorted(index_key_id(value) for value in index_values().values())


def found_by_phone(phone: str) -> set:
    return set(Secret.objects.filter(phone_index=Secret.phone_index_of(phone)).values_list("pk", flat=True))


def assert_every_lookup_works(rotating) -> None:
    for n, member in enumerate(rotating["members"]):
        assert list(User.objects.with_email(f"Person{n}@Example.com ")) == [member]
    for phone, secret in zip(PHONES, rotating["secrets"], strict=True):
        assert found_by_phone(phone.replace("-", "")) == {secret.pk}
    assert not found_by_phone("090-0000-0000")
    assert not User.objects.with_email("nobody@example.com").exists()


def rotate(*args) -> str:
    out = StringIO()
    call_command("rotate_blind_index_key", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


# --- configuration ------------------------------------------------------------------------------
def test_the_single_key_setting_is_the_legacy_key_and_keeps_its_stored_format(settings):
    use_index_keys(settings, legacy=new_key())
    secret = Secret.objects.create(member_id=uuid.uuid4(), phone="090-1234-5678")

    stored = Secret.objects.values_list("phone_index", flat=True).get(pk=secret.pk)

    assert re.fullmatch(r"[0-9a-f]{64}", stored)  # what existing deployments have stored
    assert keyring().active_blind_index_id == "legacy" and index_key_id(stored) == "legacy"


def test_a_value_under_a_named_key_starts_with_its_id(settings):
    use_index_keys(settings, keys=f"bi-2026.1:{new_key()}")
    secret = Secret.objects.create(member_id=uuid.uuid4(), phone="090-1234-5678")

    stored = Secret.objects.values_list("phone_index", flat=True).get(pk=secret.pk)

    assert re.fullmatch(r"bi-2026\.1:[A-Za-z0-9_-]{43}", stored)
    assert len(stored) <= 64 and index_key_id(stored) == "bi-2026.1"
    assert found_by_phone("09012345678") == {secret.pk}


def test_the_same_value_under_two_keys_differs(settings):
    first, second = new_key(), new_key()
    use_index_keys(settings, keys=f"a:{first},b:{second}", active="a")
    under_a = Secret.phone_index_of("09012345678")
    use_index_keys(settings, keys=f"a:{first},b:{second}", active="b")
    under_b = Secret.phone_index_of("09012345678")

    assert under_a.partition(":")[2] != under_b.partition(":")[2]
    assert set(under_b.candidates) == {under_a, under_b}


@pytest.mark.parametrize(
    ("legacy", "keys", "active", "message"),
    [
        ("", "", "", "No blind-index key is configured"),
        (
            "",
            "a:{k},b:{k2}",
            "",
            "name the one that computes new index values in PRIVACY_ACTIVE_BLIND_INDEX_KEY",
        ),
        ("{k}", "b:{k2}", "", "Several blind-index keys are configured (b, legacy)"),
        ("", "a:{k}", "z", "active blind-index key 'z'"),
        ("", "much-too-long-key-id:{k}", "", "PRIVACY_BLIND_INDEX_KEYS entry number 1 has a malformed ID"),
        ("", "a:{k},a:{k2}", "a", "Blind-index key 'a' is given twice"),
        ("{k}", "legacy:{k2}", "", "given both in PRIVACY_BLIND_INDEX_KEY and in PRIVACY_BLIND_INDEX_KEYS"),
        ("", "a:{master}", "", "blind-index key 'a' must differ from every master key"),
    ],
)
def test_a_wrong_blind_index_configuration_is_refused_naming_it(legacy, keys, active, message):
    k, k2, master = new_key(), new_key(), new_key()
    fill = {"k": k, "k2": k2, "master": master}
    with pytest.raises(ImproperlyConfigured) as excinfo:
        build_keyring(f"m:{master}", "m", legacy.format(**fill), keys.format(**fill), active)
    assert message in str(excinfo.value)
    assert k not in str(excinfo.value) and k2 not in str(excinfo.value)


def test_the_legacy_key_may_also_be_listed_under_its_id(settings):
    k = new_key()
    ring = build_keyring(f"m:{new_key()}", "m", k, f"legacy:{k}", "")
    assert list(ring.blind_index_keys) == ["legacy"] and ring.blind_index_key == base64.b64decode(k)


def test_the_keyed_hashes_that_are_not_indexes_keep_the_oldest_key(settings, rotating):
    assert keyring().blind_index_key == base64.b64decode(rotating["legacy"])
    use_index_keys(settings, keys=f"x:{new_key()},bi2:{rotating['bi2']}", active="bi2")
    assert keyring().hash_key_id == "x"


# --- rotation -----------------------------------------------------------------------------------
def test_lookups_work_before_during_and_after_a_rotation_killed_mid_run_and_resumed(
    settings, rotating, monkeypatch
):
    before = index_values()
    assert {index_key_id(v) for v in before.values()} == {"legacy"}
    assert_every_lookup_works(rotating)  # before: every value under the old key, bi2 active

    def after_batch(rotation, batch):
        if batch == 3:
            raise Killed

    monkeypatch.setattr(services, "_after_batch", after_batch)
    with clock.frozen_at(T0):
        with pytest.raises(Killed):
            rotate("--batch-size", "2")

        # Half re-indexed: the first two batches kept (batches go model by model: the three
        # members' emails in two), the third rolled back with the process.
        assert key_ids().count("bi2") == 3
        assert key_ids().count("legacy") == len(before) - 3 > 0
        (rotation,) = KeyRotation.objects.all()
        assert (rotation.kind, rotation.state, rotation.rows_done) == ("blind_index", "running", 3)
        assert rotation.from_keys == ["legacy"] and rotation.to_key == "bi2"
        assert_every_lookup_works(rotating)  # during

        monkeypatch.setattr(services, "_after_batch", lambda rotation, batch: None)
        with pytest.raises(CommandError, match="A blind-index key rotation to 'bi2' is already running"):
            rotate("--batch-size", "2")
        clock.advance(timedelta(minutes=3))
        out = rotate("--batch-size", "2")

    assert "Resumed the rotation" in out
    assert (
        f"Re-indexed {len(before)} value(s) under blind-index key 'bi2' ({len(before)} off 'legacy'); 0 emptied"
        in out
    )
    assert "Keep 'legacy' configured" in out
    after = index_values()
    assert set(after) == set(before)
    assert {index_key_id(v) for v in after.values()} == {"bi2"}
    (rotation,) = KeyRotation.objects.all()
    assert (rotation.state, rotation.rows_done, rotation.runs) == ("finished", len(before), 2)
    assert rotation.per_key == {"legacy": len(before)}
    assert_every_lookup_works(rotating)  # after

    # No value needs the old key any more: lookups work with bi2 alone.
    use_index_keys(settings, keys=f"bi2:{rotating['bi2']}")
    assert_every_lookup_works(rotating)
    assert index_values() == after


def test_an_index_whose_data_was_erased_is_emptied(settings, rotating):
    shredded = rotating["secrets"][0]
    datakeys.shred(shredded.member_id)
    total = len(index_values())

    out = rotate()

    assert Secret.objects.values_list("phone_index", flat=True).get(pk=shredded.pk) is None
    assert (
        f"Re-indexed {total - 1} value(s)" in out
        and "1 emptied because the data they indexed was erased" in out
    )
    rotation = KeyRotation.objects.get()
    assert (rotation.rows_done, rotation.rows_cleared) == (total - 1, 1)


def test_a_second_run_finds_nothing_to_re_index_and_is_recorded(rotating):
    rotate()
    after = index_values()

    out = rotate()

    assert "Re-indexed 0 value(s)" in out
    assert index_values() == after
    assert list(KeyRotation.objects.values_list("state", "rows_done").order_by("started_at", "id")) == [
        ("finished", len(after)),
        ("finished", 0),
    ]


def test_rotating_back_to_the_legacy_key_rewrites_prefixed_values(settings, rotating):
    rotate()
    use_index_keys(settings, legacy=rotating["legacy"], keys=f"bi2:{rotating['bi2']}", active="legacy")

    rotate()

    assert set(key_ids()) == {"legacy"}
    assert_every_lookup_works(rotating)


def test_an_email_kept_under_the_old_key_stays_unique_during_the_rotation(settings, rotating):
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberFactory(email="person1@example.com")
    member = rotating["members"][1]
    member.email = "PERSON1@example.com"  # its own address again: not a duplicate
    member.save()
    assert index_key_id(User.objects.values_list("email_index", flat=True).get(pk=member.pk)) == "bi2"

    other = rotating["members"][2]
    rotate()
    other.email = "person1@example.com"
    with pytest.raises(IntegrityError), transaction.atomic():
        other.save()  # both under bi2 now: the database's constraint


def test_the_rotation_generates_a_key_for_the_configuration():
    out = rotate("--generate", "bi3").strip()
    key_id, _, value = out.partition(":")
    assert key_id == "bi3" and len(base64.b64decode(value)) == 32
    with pytest.raises(CommandError, match="blind-index key ID"):
        rotate("--generate", "legacy")
    assert not KeyRotation.objects.exists()
