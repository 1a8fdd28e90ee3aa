"""Crypto-shredding of a subject's data key, master-key rotation and keyring configuration."""

import base64
import os
import re
import uuid
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.template import Context, Template
from django.utils import translation

from kirakira.privacy.catalog import Mask
from kirakira.privacy.catalog.masking import mask_value
from kirakira.privacy.crypto import datakeys
from kirakira.privacy.crypto.fields import Destroyed
from kirakira.privacy.crypto.fields import is_destroyed as value_is_destroyed
from kirakira.privacy.crypto.keyring import KeyUnavailable, build_keyring, reset_keyring
from kirakira.privacy.models import DataKey
from kirakira.privacy.tests.testapp.models import Secret

pytestmark = pytest.mark.django_db

COLUMNS = ("phone", "phone_index", "note", "links")


# --- helpers --------------------------------------------------------------------------------
def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def use_keys(settings, spec: str, active: str) -> None:
    settings.PRIVACY_MASTER_KEYS = spec
    settings.PRIVACY_ACTIVE_MASTER_KEY = active
    reset_keyring()
    datakeys.clear_cache()


@pytest.fixture(autouse=True)
def _fresh_keyring(settings):
    """Whatever a test does to the keys, the next one starts from the configured keyring."""
    reset_keyring()
    datakeys.clear_cache()
    yield
    reset_keyring()
    datakeys.clear_cache()


def raw_row(pk) -> tuple:
    """The row's stored values (binary columns as bytes), read with plain SQL."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {quote(Secret._meta.db_table)} WHERE {quote('id')} = %s",  # noqa: S608
            [Secret._meta.pk.get_db_prep_value(pk, connection)],
        )
        row = cursor.fetchone()
    return tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)


def fresh(secret) -> Secret:
    datakeys.clear_cache()
    return Secret.objects.get(pk=secret.pk)


def make_secret(owner, n=0) -> Secret:
    return Secret.objects.create(
        member_id=owner,
        phone=f"090-1234-{n:04d}",
        note=f"メモ {n} 메모 🌸",
        links=[f"https://photos.example/{owner}/{n}"],
    )


def assert_reads_original(secret, n=0):
    row = fresh(secret)
    assert row.phone == f"090-1234-{n:04d}"
    assert row.note == f"メモ {n} 메모 🌸"
    assert row.links == [f"https://photos.example/{secret.member_id}/{n}"]


def key_rows() -> dict:
    return {
        row.id: (row.owner_id, row.master_key_id, None if row.wrapped_key is None else bytes(row.wrapped_key))
        for row in DataKey.objects.all()
    }


# --- shredding ------------------------------------------------------------------------------
def test_shred_makes_every_value_of_the_owner_read_as_destroyed():
    alice, bob = uuid.uuid4(), uuid.uuid4()
    alice_rows = [make_secret(alice, n) for n in range(2)]
    bob_row = make_secret(bob, 7)
    _ = fresh(alice_rows[0]).phone  # Alice's key is now in this process's cache

    assert datakeys.shred(alice) is True

    for secret in alice_rows:
        row = Secret.objects.get(pk=secret.pk)  # the cache is not cleared by the test
        for field in ("phone", "note", "links"):
            value = getattr(row, field)
            assert isinstance(value, Destroyed), field
            assert isinstance(value, str), field
            assert value_is_destroyed(value)
            assert "090-1234" not in value and "メモ" not in value
    assert_reads_original(bob_row, 7)


def test_destroyed_value_renders_in_a_template_and_masks_without_error():
    owner = uuid.uuid4()
    secret = make_secret(owner)
    datakeys.shred(owner)

    with translation.override("en"):
        row = fresh(secret)
        rendered = Template("{{ s.phone }}|{{ s.note|upper }}|{{ s.links|length }}").render(
            Context({"s": row})
        )
        marker = str(Destroyed.marker())
        assert rendered == f"{marker}|{marker.upper()}|{len(marker)}"
        assert mask_value(row.phone, Mask.LAST4) == marker


def test_re_saving_a_shredded_row_keeps_the_original_ciphertext_and_index():
    owner = uuid.uuid4()
    secret = make_secret(owner)
    before = raw_row(secret.pk)
    datakeys.shred(owner)

    unread = fresh(secret)
    unread.save()
    assert raw_row(secret.pk) == before

    read = fresh(secret)
    assert isinstance(read.phone, Destroyed) and isinstance(read.note, Destroyed)
    assert isinstance(read.links, Destroyed)
    stored = dict(zip(COLUMNS, before, strict=True))
    for field in ("phone", "note", "links"):
        sealed = getattr(read, field).sealed
        assert isinstance(sealed, bytes) and sealed[0] == 0x01, field
        assert sealed == stored[field], field
    read.save()
    assert raw_row(secret.pk) == before


def test_shredding_twice_is_harmless():
    owner = uuid.uuid4()
    secret = make_secret(owner)

    assert datakeys.shred(owner) is True
    first = DataKey.objects.get(owner_id=owner)
    assert datakeys.shred(owner) is True
    second = DataKey.objects.get(owner_id=owner)

    assert first.destroyed_at is not None
    assert second.destroyed_at == first.destroyed_at
    assert second.wrapped_key is None
    assert isinstance(fresh(secret).phone, Destroyed)


def test_shredding_a_subject_without_a_key_reports_false():
    assert datakeys.shred(uuid.uuid4()) is False
    assert DataKey.objects.count() == 0


def test_shred_erases_the_wrapped_key_from_the_database():
    owner = uuid.uuid4()
    make_secret(owner)
    assert DataKey.objects.get(owner_id=owner).wrapped_key is not None

    datakeys.shred(owner)

    row = DataKey.objects.get(owner_id=owner)
    assert row.wrapped_key is None
    assert row.destroyed_at is not None


def test_is_destroyed_tells_shredded_subjects_apart():
    alice, bob, carol = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    make_secret(alice)
    make_secret(bob)

    assert datakeys.is_destroyed(alice) is False
    datakeys.shred(alice)

    assert datakeys.is_destroyed(alice) is True
    assert datakeys.is_destroyed(bob) is False
    assert datakeys.is_destroyed(carol) is False  # never had a key
    assert value_is_destroyed(fresh(Secret.objects.get(member_id=bob)).phone) is False


# --- rotation -------------------------------------------------------------------------------
@pytest.fixture
def old_and_new(settings):
    keys = {"old": new_key(), "new": new_key()}
    use_keys(settings, f"old:{keys['old']},new:{keys['new']}", "old")
    return keys


def test_rotate_master_key_rewraps_live_keys_and_leaves_encrypted_rows_untouched(settings, old_and_new):
    owners = [uuid.uuid4() for _ in range(3)]
    secrets = [make_secret(owner, n) for n, owner in enumerate(owners)]
    secrets.append(make_secret(owners[0], 3))
    shredded_owner = uuid.uuid4()
    shredded_secret = make_secret(shredded_owner, 9)
    datakeys.shred(shredded_owner)
    rows_before = {s.pk: raw_row(s.pk) for s in [*secrets, shredded_secret]}
    keys_before = key_rows()
    assert {master for _, master, _ in keys_before.values()} == {"old"}

    use_keys(settings, f"old:{old_and_new['old']},new:{old_and_new['new']}", "new")
    out = StringIO()
    call_command("rotate_master_key", stdout=out)

    assert re.search(r"\b3\b", out.getvalue()), out.getvalue()
    live = DataKey.objects.filter(destroyed_at__isnull=True)
    assert live.count() == 3
    for row in live:
        assert row.master_key_id == "new"
        assert bytes(row.wrapped_key) != keys_before[row.id][2]
        assert row.rotated_at is not None
    tombstone = DataKey.objects.get(owner_id=shredded_owner)
    assert tombstone.wrapped_key is None and tombstone.destroyed_at is not None
    assert {s.pk: raw_row(s.pk) for s in [*secrets, shredded_secret]} == rows_before
    for secret, n in zip(secrets, [0, 1, 2, 3], strict=True):
        assert_reads_original(secret, n)

    # The old master key can now be removed.
    use_keys(settings, f"new:{old_and_new['new']}", "new")
    for secret, n in zip(secrets, [0, 1, 2, 3], strict=True):
        assert_reads_original(secret, n)
    assert isinstance(fresh(shredded_secret).phone, Destroyed)


def test_rotate_master_key_counts_keys_already_current_and_rewrites_nothing_twice(settings, old_and_new):
    old_owners = [uuid.uuid4() for _ in range(3)]
    for n, owner in enumerate(old_owners):
        make_secret(owner, n)
    use_keys(settings, f"old:{old_and_new['old']},new:{old_and_new['new']}", "new")
    new_owners = [uuid.uuid4() for _ in range(2)]
    for n, owner in enumerate(new_owners):
        make_secret(owner, n)
    already_new = {k: v for k, v in key_rows().items() if v[1] == "new"}
    assert len(already_new) == 2

    first = StringIO()
    call_command("rotate_master_key", stdout=first)

    assert re.search(r"\b3\b", first.getvalue()), first.getvalue()
    assert re.search(r"\b2\b", first.getvalue()), first.getvalue()
    after_first = key_rows()
    for key_id, value in already_new.items():
        assert after_first[key_id] == value  # not re-wrapped
    assert {master for _, master, _ in after_first.values()} == {"new"}

    call_command("rotate_master_key", stdout=StringIO())
    assert key_rows() == after_first


@pytest.fixture
def three_keys(settings):
    keys = {"retired-2023": new_key(), "current-2024": new_key(), "next-2025": new_key()}
    spec = ",".join(f"{k}:{v}" for k, v in keys.items())
    use_keys(settings, spec, "retired-2023")
    return keys


def test_reading_a_value_whose_master_key_is_gone_raises_key_unavailable_naming_it(settings, three_keys):
    retired_owner, current_owner = uuid.uuid4(), uuid.uuid4()
    retired_secret = make_secret(retired_owner)
    spec = ",".join(f"{k}:{v}" for k, v in three_keys.items())
    use_keys(settings, spec, "current-2024")
    current_secret = make_secret(current_owner, 1)

    use_keys(settings, f"current-2024:{three_keys['current-2024']}", "current-2024")

    row = fresh(retired_secret)
    with pytest.raises(KeyUnavailable) as excinfo:
        _ = row.phone
    assert "retired-2023" in str(excinfo.value)
    assert str(retired_secret.pk) in str(excinfo.value)
    assert_reads_original(current_secret, 1)


def test_reading_with_a_different_key_under_the_same_id_raises_key_unavailable(settings, old_and_new):
    secret = make_secret(uuid.uuid4())

    use_keys(settings, f"old:{new_key()},new:{old_and_new['new']}", "old")

    with pytest.raises(KeyUnavailable) as excinfo:
        _ = fresh(secret).phone
    assert "'old'" in str(excinfo.value)


def test_rotate_master_key_with_a_missing_key_fails_naming_it_and_rewrites_nothing(settings, three_keys):
    spec = ",".join(f"{k}:{v}" for k, v in three_keys.items())
    for n in range(4):
        make_secret(uuid.uuid4(), n)  # wrapped by retired-2023
    use_keys(settings, spec, "current-2024")
    for n in range(4):
        make_secret(uuid.uuid4(), n)  # wrapped by current-2024, which could be re-wrapped
    before = key_rows()
    assert sorted(master for _, master, _ in before.values()) == ["current-2024"] * 4 + ["retired-2023"] * 4

    keep = ("current-2024", "next-2025")
    use_keys(settings, ",".join(f"{k}:{three_keys[k]}" for k in keep), "next-2025")
    with pytest.raises((CommandError, KeyUnavailable)) as excinfo:
        call_command("rotate_master_key", stdout=StringIO(), stderr=StringIO())

    assert "retired-2023" in str(excinfo.value)
    assert key_rows() == before
    assert not DataKey.objects.filter(rotated_at__isnull=False).exists()


# --- keyring configuration ------------------------------------------------------------------
def _config_error(spec, active, blind=None) -> str:
    with pytest.raises(ImproperlyConfigured) as excinfo:
        build_keyring(spec, active, blind if blind is not None else new_key())
    return str(excinfo.value)


def test_build_keyring_accepts_a_valid_configuration():
    a, b, index = new_key(), new_key(), new_key()

    ring = build_keyring(f"k-1:{a}, k.2:{b}", "k.2", index)

    assert ring.active_id == "k.2"
    assert ring.active_key == base64.b64decode(b)
    assert set(ring.master_keys) == {"k-1", "k.2"}
    assert ring.blind_index_key == base64.b64decode(index)


def test_build_keyring_rejects_malformed_base64_naming_the_key():
    message = _config_error(f"good:{new_key()},broken:not*base64!", "good")
    assert "broken" in message
    assert "base64" in message


@pytest.mark.parametrize("size", [16, 31, 33, 64])
def test_build_keyring_rejects_a_key_of_the_wrong_length_naming_it(size):
    message = _config_error(f"short-key:{base64.b64encode(os.urandom(size)).decode()}", "short-key")
    assert "short-key" in message
    assert "32" in message


@pytest.mark.parametrize("bad_id", ["bad id", "clé", "a/b", "x" * 65])
def test_build_keyring_rejects_a_bad_key_id_naming_it(bad_id):
    message = _config_error(f"{bad_id}:{new_key()}", bad_id)
    assert bad_id in message


def test_build_keyring_rejects_an_entry_without_id_without_echoing_the_key_material():
    secret = new_key()
    for spec in (secret, f"k1={secret}", f"k1 {secret}"):
        message = _config_error(spec, "k1")
        assert "PRIVACY_MASTER_KEYS" in message
        assert secret[:8] not in message, message


def test_build_keyring_rejects_a_duplicate_key_id_naming_it():
    message = _config_error(f"twice:{new_key()},other:{new_key()},twice:{new_key()}", "twice")
    assert "twice" in message


def test_build_keyring_rejects_an_active_key_that_is_not_configured_naming_it():
    message = _config_error(f"k1:{new_key()},k2:{new_key()}", "k3")
    assert "k3" in message


def test_build_keyring_rejects_an_empty_key_list():
    message = _config_error("", "k1")
    assert "PRIVACY_MASTER_KEYS" in message


def test_build_keyring_rejects_a_blind_index_key_equal_to_a_master_key_naming_it():
    shared = new_key()
    message = _config_error(f"k1:{new_key()},shared-master:{shared}", "k1", shared)
    assert "shared-master" in message
    assert shared not in message


def test_build_keyring_rejects_a_malformed_blind_index_key():
    message = _config_error(f"k1:{new_key()}", "k1", "tooshort")
    assert "PRIVACY_BLIND_INDEX_KEY" in message
