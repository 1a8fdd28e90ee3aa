"""The fast paths of encrypted fields keep every guarantee of the careful ones.

Reads and writes of a cached key go through shortcuts (the attribute descriptor, ``seal()`` and
``open()`` inline, keys fetched with plain SQL, ``bulk_create`` loading keys in one query). These
tests pin what the shortcuts must not change: the stored format, a fresh nonce per value, the
binding to table, column and row, destroyed keys reading as the marker, and the key cache's
expiry (``PRIVACY_KEY_CACHE_SECONDS``), including for a key destroyed by another process.
"""

import os
import uuid

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import connection, transaction

from kirakira.common import clock
from kirakira.privacy.crypto import datakeys
from kirakira.privacy.crypto.fields import FORMAT, DecryptionError, Destroyed, prefetch_keys
from kirakira.privacy.crypto.keyring import KeyUnavailable
from kirakira.privacy.models import DataKey
from kirakira.privacy.tests.testapp.models import Sample, Secret

from .test_encrypted_fields import (
    CIPHERTEXT_START,
    KEY_ID_START,
    NONCE_START,
    TABLE,
    make_secret,
    raw_value,
    reload,
    set_raw_value,
    stored_key_id,
    stored_nonce,
)

pytestmark = pytest.mark.django_db


def raw_data_key(owner) -> bytes:
    """The subject's data key itself, unwrapped from its row (as a restore or an audit would)."""
    return datakeys._unwrap(DataKey.objects.get(owner_id=owner))


def destroy_elsewhere(owner) -> None:
    """What ``shred`` does, as seen from another process: the row changes, this process's
    cache does not."""
    DataKey.objects.filter(owner_id=owner).update(wrapped_key=None, destroyed_at=clock.now())


def expire_cached_keys() -> None:
    """Move every cached key past its expiry, as ``PRIVACY_KEY_CACHE_SECONDS`` passing would."""
    entries = list(datakeys._by_raw_id.values()) + list(datakeys._by_owner.values())
    assert entries, "nothing cached: the test would prove nothing"
    for entry in entries:
        entry.expires = 0.0


# --- the stored format ----------------------------------------------------------------------------
def test_a_value_sealed_by_hand_in_the_documented_layout_reads_back():
    # Rows written by earlier versions must stay readable: format byte 1, the data key's ID,
    # a 12-byte nonce, then AES-256-GCM of the UTF-8 text with "kirakira|table|column|" and the
    # row's 16 bytes as associated data.
    secret = make_secret(phone="090-0000-0000")
    key_id = DataKey.objects.get(owner_id=secret.member_id).id
    nonce = os.urandom(12)
    aad = f"kirakira|{TABLE}|phone|".encode() + secret.pk.bytes
    body = AESGCM(raw_data_key(secret.member_id)).encrypt(nonce, "東京 080-1111-2222".encode(), aad)
    set_raw_value(Secret, "phone", secret.pk, bytes((1,)) + key_id.bytes + nonce + body)

    assert reload(secret).phone == "東京 080-1111-2222"  # key fetched: the careful path
    assert Secret.objects.get(pk=secret.pk).phone == "東京 080-1111-2222"  # key cached: the fast path


def test_what_the_fields_write_is_the_documented_layout():
    secret = make_secret(phone="090-1234-5678", note="メモ")

    stored = raw_value(Secret, "note", secret.pk)
    assert stored[0] == FORMAT == 1
    key_id = uuid.UUID(bytes=stored[KEY_ID_START:NONCE_START])
    assert key_id == DataKey.objects.get(owner_id=secret.member_id).id
    aad = f"kirakira|{TABLE}|note|".encode() + secret.pk.bytes
    plain = AESGCM(raw_data_key(secret.member_id)).decrypt(
        stored[NONCE_START:CIPHERTEXT_START], stored[CIPHERTEXT_START:], aad
    )
    assert plain.decode() == "メモ"


def test_every_encryption_takes_a_fresh_nonce():
    owner = uuid.uuid4()
    secret = Secret(member_id=owner)
    field = Secret._meta.get_field("phone")

    sealed = [field.seal(secret, "090-1234-5678") for _ in range(2000)]

    assert len({value[NONCE_START:CIPHERTEXT_START] for value in sealed}) == len(sealed)
    assert len(set(sealed)) == len(sealed)
    assert {field.open(secret, value) for value in sealed} == {"090-1234-5678"}


def test_the_same_value_saved_twice_by_save_and_by_bulk_create_gets_two_nonces():
    owner = uuid.uuid4()
    saved = [make_secret(member_id=owner, phone="090-1234-5678") for _ in range(2)]
    bulk = Secret.objects.bulk_create([Secret(member_id=owner, phone="090-1234-5678") for _ in range(2)])

    nonces = {stored_nonce(raw_value(Secret, "phone", row.pk)) for row in saved + bulk}
    assert len(nonces) == 4


# --- binding to table, column and row ---------------------------------------------------------------
def test_open_with_a_cached_key_refuses_a_value_of_another_row_naming_the_row():
    owner = uuid.uuid4()
    first, second = make_secret(member_id=owner), make_secret(member_id=owner)
    field = Secret._meta.get_field("phone")
    stored = raw_value(Secret, "phone", first.pk)
    assert field.open(first, stored) == "090-1234-5678"  # key cached from here on

    with pytest.raises(DecryptionError) as excinfo:
        field.open(second, stored)
    assert str(second.pk) in str(excinfo.value)
    with pytest.raises(DecryptionError):
        field.open(first, stored, row=second.pk)
    with pytest.raises(DecryptionError):
        Secret._meta.get_field("note").open(first, stored)  # another column


def test_a_value_moved_to_another_table_with_the_same_column_and_row_fails():
    # Secret and Sample both have a "phone" column under the same subject's key: with the
    # same primary key, only the table in the associated data tells them apart.
    owner = uuid.uuid4()
    secret = make_secret(member_id=owner)
    stored = raw_value(Secret, "phone", secret.pk)

    with pytest.raises(DecryptionError) as excinfo:
        Sample._meta.get_field("phone").open(Sample(id=secret.pk, member_id=owner), stored)
    assert Sample._meta.db_table in str(excinfo.value)


def test_a_read_value_is_bound_to_the_row_it_was_loaded_for_even_if_the_pk_changes():
    secret = make_secret(phone="090-1234-5678")
    loaded = Secret.objects.get(pk=secret.pk)

    loaded.id = uuid.uuid4()  # before the value is read

    assert loaded.phone == "090-1234-5678"


# --- destroyed keys ---------------------------------------------------------------------------------
def test_a_destroyed_key_in_the_cache_reads_as_the_marker_on_every_path():
    owner = uuid.uuid4()
    secret = make_secret(member_id=owner)
    stored = raw_value(Secret, "phone", secret.pk)
    datakeys.shred(owner)
    datakeys.prefetch([owner])  # the destroyed key is now cached (as a list would cache it)
    assert datakeys._by_owner[owner.int].aead is None

    row = Secret.objects.get(pk=secret.pk)
    assert isinstance(row.phone, Destroyed) and row.phone.sealed == stored
    assert isinstance(Secret._meta.get_field("phone").open(row, stored), Destroyed)
    with pytest.raises(datakeys.DestroyedKey), transaction.atomic():
        Secret.objects.create(member_id=owner, phone="090-0000-0000")


# --- the key cache's expiry -------------------------------------------------------------------------
def test_a_key_destroyed_by_another_process_stops_decrypting_once_the_cache_expires():
    owner = uuid.uuid4()
    secret = make_secret(member_id=owner, phone="090-1234-5678")
    assert reload(secret).phone == "090-1234-5678"  # cached in this process
    destroy_elsewhere(owner)

    # Within PRIVACY_KEY_CACHE_SECONDS the cached key still reads (the documented window) ...
    assert Secret.objects.get(pk=secret.pk).phone == "090-1234-5678"
    stored = raw_value(Secret, "phone", secret.pk)
    field = Secret._meta.get_field("phone")
    assert field.open(secret, stored) == "090-1234-5678"

    # ... and after it, every path asks the database again and finds the key destroyed.
    expire_cached_keys()
    assert isinstance(field.open(secret, stored), Destroyed)
    expire_cached_keys()
    assert isinstance(Secret.objects.get(pk=secret.pk).phone, Destroyed)
    expire_cached_keys()
    loaded = Secret.objects.only("id", "phone").get(pk=secret.pk)  # no prefetch by owner
    expire_cached_keys()
    assert isinstance(loaded.phone, Destroyed)


def test_a_key_destroyed_by_another_process_stops_encrypting_once_the_cache_expires():
    owner = uuid.uuid4()
    make_secret(member_id=owner)
    destroy_elsewhere(owner)
    Secret.objects.create(member_id=owner, phone="090-0000-0001")  # cached: the window

    expire_cached_keys()
    with pytest.raises(datakeys.DestroyedKey), transaction.atomic():
        Secret.objects.create(member_id=owner, phone="090-0000-0002")
    expire_cached_keys()
    with pytest.raises(datakeys.DestroyedKey), transaction.atomic():
        Secret.objects.bulk_create([Secret(member_id=owner, phone="090-0000-0003")])


def test_the_cache_lifetime_comes_from_the_setting(settings):
    settings.PRIVACY_KEY_CACHE_SECONDS = 0
    owner = uuid.uuid4()
    secret = make_secret(member_id=owner)
    destroy_elsewhere(owner)

    assert isinstance(Secret.objects.get(pk=secret.pk).phone, Destroyed)


def test_prefetch_fetches_expired_keys_again_and_leaves_fresh_ones(django_assert_num_queries):
    owners = [uuid.uuid4() for _ in range(3)]
    for owner in owners:
        make_secret(member_id=owner)
    datakeys.clear_cache()
    datakeys.prefetch(owners)

    with django_assert_num_queries(0):
        datakeys.prefetch(owners)
    datakeys._by_owner[owners[0].int].expires = 0.0
    with django_assert_num_queries(1):
        datakeys.prefetch(owners)
    with django_assert_num_queries(0):
        datakeys.prefetch(owners)


# --- queries ------------------------------------------------------------------------------------------
def test_bulk_create_loads_the_keys_of_all_its_members_in_one_query(django_assert_num_queries):
    members = [uuid.uuid4() for _ in range(4)]
    for member in members:
        datakeys.key_for_owner(member)
    datakeys.clear_cache()
    objs = [Secret(member_id=members[n % 4], phone=f"090-7777-{n:04d}", note=f"一括 {n}") for n in range(12)]

    with django_assert_num_queries(2):  # the keys of the four members, then the INSERT
        Secret.objects.bulk_create(objs)

    datakeys.clear_cache()
    read = {row.pk: (row.phone, row.note) for row in Secret.objects.filter(member_id__in=members)}
    assert read == {obj.pk: (f"090-7777-{n:04d}", f"一括 {n}") for n, obj in enumerate(objs)}


def test_bulk_create_creates_the_keys_of_new_members():
    members = [uuid.uuid4() for _ in range(3)]

    Secret.objects.bulk_create([Secret(member_id=member, phone="090-0000-0000") for member in members])

    assert DataKey.objects.filter(owner_id__in=members).count() == 3
    datakeys.clear_cache()
    assert {row.phone for row in Secret.objects.filter(member_id__in=members)} == {"090-0000-0000"}


def test_save_with_a_cached_key_makes_no_key_query(django_assert_num_queries):
    owner = uuid.uuid4()
    make_secret(member_id=owner)

    with django_assert_num_queries(1):  # the INSERT
        Secret.objects.create(member_id=owner, phone="090-0000-0001", note="メモ")
    datakeys.clear_cache()
    with django_assert_num_queries(2):  # the key, then the INSERT
        Secret.objects.create(member_id=owner, phone="090-0000-0002", note="メモ")


def test_keys_of_more_members_than_one_query_takes_load_in_batches(django_assert_num_queries):
    members = [uuid.uuid4() for _ in range(501)]
    DataKey.objects.bulk_create(
        DataKey(owner_id=member, master_key_id="unused", wrapped_key=None, destroyed_at=clock.now())
        for member in members
    )

    with django_assert_num_queries(2):
        datakeys.prefetch(members)

    assert all(datakeys._by_owner[member.int].aead is None for member in members)


def test_key_lookups_by_id_and_owner_find_the_same_key():
    owner = uuid.uuid4()
    secret = make_secret(member_id=owner)
    key_id = stored_key_id(raw_value(Secret, "phone", secret.pk))

    datakeys.clear_cache()
    by_id = datakeys.key_by_raw_id(key_id.bytes)
    datakeys.clear_cache()
    by_owner = datakeys.key_for_owner(owner)
    datakeys.clear_cache()
    datakeys.prefetch([owner, None, str(owner)])
    prefetched = datakeys._by_owner[owner.int]

    for entry in (by_id, by_owner, prefetched):
        assert (entry.id, entry.owner_id) == (key_id, owner)
        assert isinstance(entry.id, uuid.UUID) and isinstance(entry.owner_id, uuid.UUID)
    assert datakeys.key_for_owner(str(owner)).id == key_id  # a string ID is accepted too


def test_an_unknown_key_id_raises_key_unavailable_naming_the_row():
    secret = make_secret()
    stored = bytearray(raw_value(Secret, "phone", secret.pk))
    stored[KEY_ID_START:NONCE_START] = uuid.uuid4().bytes
    set_raw_value(Secret, "phone", secret.pk, bytes(stored))

    with pytest.raises(KeyUnavailable) as excinfo:
        _ = reload(secret).phone
    assert TABLE in str(excinfo.value) and str(secret.pk) in str(excinfo.value)


# --- the subject and row as given --------------------------------------------------------------------
def test_a_subject_and_primary_key_given_as_strings_are_used_as_uuids():
    owner, pk = uuid.uuid4(), uuid.uuid4()
    secret = Secret(id=str(pk), member_id=str(owner), phone="090-1234-5678")
    field = Secret._meta.get_field("phone")

    sealed = field.seal(secret, "090-1234-5678")

    assert uuid.UUID(bytes=sealed[KEY_ID_START:NONCE_START]) == DataKey.objects.get(owner_id=owner).id
    assert field.open(Secret(id=pk, member_id=owner), sealed) == "090-1234-5678"


def test_keys_of_instances_of_several_models_load_in_one_query(django_assert_num_queries):
    owners = [uuid.uuid4() for _ in range(3)]
    secrets = [make_secret(member_id=owner, phone=f"090-0000-{n:04d}") for n, owner in enumerate(owners)]
    sample = Sample.objects.create(member_id=uuid.uuid4(), phone="090-9999-9999")
    rows = list(Secret.objects.filter(pk__in=[s.pk for s in secrets])) + [Sample.objects.get(pk=sample.pk)]
    datakeys.clear_cache()

    with django_assert_num_queries(1):
        prefetch_keys(row for row in rows)
    with django_assert_num_queries(0):
        read = sorted(row.phone for row in rows)

    assert read == ["090-0000-0000", "090-0000-0001", "090-0000-0002", "090-9999-9999"]


def test_binary_is_written_as_bytes_on_this_database():
    field = Secret._meta.get_field("phone")
    value = b"\x01" + bytes(40)

    assert field.get_db_prep_value(value, connection) is value
    assert field.get_db_prep_value(None, connection) is None
    with pytest.raises(TypeError, match="encrypted"):
        field.get_db_prep_value("090-1234-5678", connection)
