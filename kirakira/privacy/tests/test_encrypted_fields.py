"""Encrypted model fields: AES-256-GCM under the data subject's key, bound to table, column and row."""

import base64
import uuid

import pytest
from django.core.exceptions import FieldError, ValidationError
from django.db import connection, models, transaction
from django.test import override_settings
from django.test.utils import isolate_apps

from kirakira.privacy.crypto import datakeys
from kirakira.privacy.crypto.fields import (
    FORMAT,
    BlindIndexField,
    DecryptionError,
    EncryptedCharField,
    EncryptedManager,
    EncryptedTextField,
    Sealed,
)
from kirakira.privacy.crypto.keyring import keyring, reset_keyring
from kirakira.privacy.models import DataKey
from kirakira.privacy.tests.testapp.models import Secret

pytestmark = pytest.mark.django_db

TABLE = Secret._meta.db_table
KEY_ID_BYTES = 16
NONCE_BYTES = 12
TAG_BYTES = 16
# Layout of a stored value: format byte | key ID | nonce | ciphertext | tag.
KEY_ID_START = 1
NONCE_START = KEY_ID_START + KEY_ID_BYTES
CIPHERTEXT_START = NONCE_START + NONCE_BYTES


# --- helpers --------------------------------------------------------------------------------
def _sql_names(model, column):
    quote = connection.ops.quote_name
    return quote(model._meta.db_table), quote(column), quote(model._meta.pk.column)


def raw_value(model, column, pk):
    """The column's value as stored, read with plain SQL (no field conversion); binary as bytes."""
    table, col, pk_col = _sql_names(model, column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {col} FROM {table} WHERE {pk_col} = %s",  # noqa: S608 - quoted identifiers
            [model._meta.pk.get_db_prep_value(pk, connection)],
        )
        row = cursor.fetchone()
    assert row is not None, f"no row {pk} in {model._meta.db_table}"
    value = row[0]
    return bytes(value) if isinstance(value, memoryview) else value


def set_raw_value(model, column, pk, value):
    table, col, pk_col = _sql_names(model, column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {col} = %s WHERE {pk_col} = %s",  # noqa: S608 - quoted identifiers
            [value, model._meta.pk.get_db_prep_value(pk, connection)],
        )
        assert cursor.rowcount == 1


def assert_well_formed(stored) -> bytes:
    assert isinstance(stored, bytes), type(stored)
    assert stored[0] == FORMAT == 0x01
    assert len(stored) >= CIPHERTEXT_START + TAG_BYTES
    return stored


def stored_key_id(stored: bytes) -> uuid.UUID:
    return uuid.UUID(bytes=assert_well_formed(stored)[KEY_ID_START:NONCE_START])


def stored_nonce(stored: bytes) -> bytes:
    return assert_well_formed(stored)[NONCE_START:CIPHERTEXT_START]


def reload(obj):
    """A fresh instance from the database, with nothing cached."""
    datakeys.clear_cache()
    return type(obj).objects.get(pk=obj.pk)


def make_secret(member_id=None, **values):
    values.setdefault("phone", "090-1234-5678")
    values.setdefault("note", "玄関の暗証番号は 4521")
    values.setdefault("links", ["https://photos.example/a/1"])
    return Secret.objects.create(member_id=member_id or uuid.uuid4(), **values)


def flip_byte(stored: bytes, index: int) -> bytes:
    """The stored value with one bit of one byte flipped."""
    return stored[:index] + bytes([stored[index] ^ 0x01]) + stored[index + 1 :]


# --- round trip ----------------------------------------------------------------------------
TEXTS = [
    "090-1234-5678",
    "東京都渋谷区神南1-2-3 きらきらマンション 405号室",
    "서울특별시 강남구 테헤란로 123, 김민지 고객님",
    "🌸✨ emoji 👩‍👩‍👧‍👦 family and 🇯🇵 flag",
    "line one\nline two\ttabbed \u200b zero-width\r\n",
    "",
    "x" * 20_000,
]


@pytest.mark.parametrize(
    "text", TEXTS, ids=["ascii", "japanese", "korean", "emoji", "control", "empty", "long"]
)
def test_text_field_round_trips_unicode_values(text):
    secret = make_secret(note=text)

    assert reload(secret).note == text


@pytest.mark.parametrize("phone", ["090-1234-5678", "＋８１ ９０ 電話", "010-9876-5432 (김)", "📞 080"])
def test_char_field_round_trips_unicode_values(phone):
    secret = make_secret(phone=phone)

    assert reload(secret).phone == phone


@pytest.mark.parametrize(
    "links",
    [
        ["https://photos.example/写真/1", "https://사진.example/2"],
        {"instagram": "@kira_kira_🌸", "note": "撮影は 3月", "count": 3, "public": False, "extra": None},
        [{"url": "https://x.example/🎉", "tags": ["家族", "가족"]}, 1.5, True],
        [],
        "just a string",
    ],
    ids=["list", "dict", "nested", "empty", "scalar"],
)
def test_json_field_round_trips_structures_with_unicode(links):
    secret = make_secret(links=links)

    assert reload(secret).links == links


def test_none_is_stored_as_null_and_reads_as_none():
    secret = make_secret(phone=None, note=None, links=None)

    assert raw_value(Secret, "phone", secret.pk) is None
    assert raw_value(Secret, "note", secret.pk) is None
    assert raw_value(Secret, "links", secret.pk) is None
    fresh = reload(secret)
    assert (fresh.phone, fresh.note, fresh.links) == (None, None, None)


def test_the_instance_that_saved_keeps_its_plaintext():
    secret = make_secret(phone="090-1111-2222")

    assert secret.phone == "090-1111-2222"
    secret.refresh_from_db()
    assert secret.phone == "090-1111-2222"


# --- what is stored ---------------------------------------------------------------------------
def test_raw_columns_hold_binary_ciphertext_not_plaintext():
    secret = make_secret(
        phone="090-8765-4321", note="秘密のメモ 비밀 메모", links=["https://photos.example/zz9"]
    )

    for column, plaintext in [
        ("phone", "090-8765-4321"),
        ("phone", "4321"),
        ("note", "秘密のメモ"),
        ("note", "비밀"),
        ("links", "photos.example"),
    ]:
        stored = raw_value(Secret, column, secret.pk)
        assert isinstance(stored, bytes), (column, type(stored))
        assert stored[:1] == b"\x01", column
        assert plaintext.encode() not in stored, column
        assert plaintext.encode("utf-16-le") not in stored, column
    # format byte, key ID, nonce, then exactly as many ciphertext bytes as plaintext, then the tag
    assert len(raw_value(Secret, "phone", secret.pk)) == 1 + 16 + 12 + len(b"090-8765-4321") + 16


def test_stored_value_records_the_subjects_data_key_id():
    member_id = uuid.uuid4()
    secret = make_secret(member_id=member_id)

    data_key = DataKey.objects.get(owner_id=member_id)
    assert data_key.master_key_id == keyring().active_id
    for column in ("phone", "note", "links"):
        assert stored_key_id(raw_value(Secret, column, secret.pk)) == data_key.id


def test_two_subjects_get_different_data_keys_and_one_subject_reuses_hers():
    alice, bob = uuid.uuid4(), uuid.uuid4()
    a1, a2, b1 = make_secret(member_id=alice), make_secret(member_id=alice), make_secret(member_id=bob)

    key_a1 = stored_key_id(raw_value(Secret, "phone", a1.pk))
    key_a2 = stored_key_id(raw_value(Secret, "phone", a2.pk))
    key_b1 = stored_key_id(raw_value(Secret, "phone", b1.pk))
    assert key_a1 == key_a2
    assert key_a1 != key_b1
    rows = {row.owner_id: row for row in DataKey.objects.filter(owner_id__in=[alice, bob])}
    assert set(rows) == {alice, bob}
    assert bytes(rows[alice].wrapped_key) != bytes(rows[bob].wrapped_key)


def test_same_plaintext_encrypts_differently_each_time():
    member_id = uuid.uuid4()
    first = make_secret(member_id=member_id, phone="090-1234-5678")
    second = make_secret(member_id=member_id, phone="090-1234-5678")

    stored_1, stored_2 = raw_value(Secret, "phone", first.pk), raw_value(Secret, "phone", second.pk)
    assert stored_1 != stored_2
    assert stored_nonce(stored_1) != stored_nonce(stored_2)
    assert stored_1[CIPHERTEXT_START:] != stored_2[CIPHERTEXT_START:]


PAYLOAD = "合鍵は植木鉢の下".encode() + b" bytes-4521"


@pytest.mark.parametrize("how", ["create", "assign"])
@pytest.mark.parametrize("column", ["phone", "note", "links"])
def test_bytes_given_as_a_value_are_never_stored_unencrypted(column, how):
    # Plaintext is never bytes (text fields hold str, JSON fields JSON values); bytes handed to
    # an encrypted field by mistake must be refused or encrypted, never written as they are.
    secret = Secret(member_id=uuid.uuid4())
    try:
        with transaction.atomic():
            if how == "create":
                secret = Secret.objects.create(member_id=uuid.uuid4(), **{column: PAYLOAD})
            else:
                secret.save()
                setattr(secret, column, PAYLOAD)
                secret.save()
    except (TypeError, ValueError, DecryptionError):
        return  # refused
    stored = raw_value(Secret, column, secret.pk)
    assert stored is not None
    assert PAYLOAD not in stored
    assert "合鍵".encode() not in stored


def test_saving_requires_the_data_subject():
    with pytest.raises(ValueError, match="member_id"):
        Secret(member_id=None, phone="090-1234-5678").save()


def test_encrypted_char_field_still_validates_max_length():
    secret = Secret(member_id=uuid.uuid4(), phone="0" * 31)

    with pytest.raises(ValidationError) as excinfo:
        secret.full_clean()
    assert "phone" in excinfo.value.message_dict


# --- ciphertexts are bound to their row and column ---------------------------------------------
@pytest.mark.parametrize("same_owner", [True, False], ids=["same-subject", "other-subject"])
def test_ciphertext_copied_to_another_row_fails_naming_table_column_and_row(same_owner):
    owner = uuid.uuid4()
    source = make_secret(member_id=owner, phone="090-0000-1111")
    target = make_secret(member_id=owner if same_owner else uuid.uuid4(), phone="090-2222-3333")
    set_raw_value(Secret, "phone", target.pk, raw_value(Secret, "phone", source.pk))

    victim = reload(target)
    with pytest.raises(DecryptionError) as excinfo:
        _ = victim.phone
    message = str(excinfo.value)
    assert TABLE in message
    assert "phone" in message
    assert str(target.pk) in message
    assert "090-0000-1111" not in message
    assert reload(source).phone == "090-0000-1111"  # the original still reads


def test_ciphertext_copied_to_another_column_fails_naming_table_column_and_row():
    secret = make_secret(phone="090-4444-5555", note="元のメモ")
    set_raw_value(Secret, "note", secret.pk, raw_value(Secret, "phone", secret.pk))

    fresh = reload(secret)
    with pytest.raises(DecryptionError) as excinfo:
        _ = fresh.note
    message = str(excinfo.value)
    assert TABLE in message
    assert "note" in message
    assert str(secret.pk) in message
    assert fresh.phone == "090-4444-5555"


@pytest.mark.parametrize("position", ["nonce", "ciphertext-first", "ciphertext-last", "tag"])
def test_tampered_ciphertext_fails_naming_table_column_and_row(position):
    secret = make_secret(phone="090-6666-7777")
    stored = raw_value(Secret, "phone", secret.pk)
    tag_start = len(stored) - TAG_BYTES
    index = {
        "nonce": NONCE_START + 5,
        "ciphertext-first": CIPHERTEXT_START,
        "ciphertext-last": tag_start - 1,
        "tag": len(stored) - 1,
    }[position]
    tampered = flip_byte(stored, index)
    assert tampered != stored and len(tampered) == len(stored)
    assert tampered[:NONCE_START] == stored[:NONCE_START]  # same format byte and key ID
    set_raw_value(Secret, "phone", secret.pk, tampered)

    fresh = reload(secret)
    with pytest.raises(DecryptionError) as excinfo:
        _ = fresh.phone
    message = str(excinfo.value)
    assert TABLE in message
    assert "phone" in message
    assert str(secret.pk) in message


MALFORMED = {
    "empty": lambda valid: b"",
    "format-byte-only": lambda valid: b"\x01",
    "format-and-key-id-only": lambda valid: valid[:NONCE_START],
    "shorter-than-a-tag": lambda valid: valid[: CIPHERTEXT_START + TAG_BYTES - 1],
    "unknown-format": lambda valid: b"\x02" + valid[1:],
    "zero-format": lambda valid: b"\x00" + valid[1:],
    "plaintext": lambda valid: b"090-1234-5678",
    "long-plaintext": lambda valid: "東京都渋谷区神南1-2-3 きらきらマンション 405号室".encode(),
    "old-text-format": lambda valid: b"kk1." + base64.urlsafe_b64encode(valid[1:]).rstrip(b"="),
}


@pytest.mark.parametrize("make_stored", MALFORMED.values(), ids=MALFORMED.keys())
def test_value_that_is_not_a_well_formed_ciphertext_fails_naming_the_row(make_stored):
    secret = make_secret()
    stored = make_stored(raw_value(Secret, "phone", secret.pk))
    set_raw_value(Secret, "phone", secret.pk, stored)
    assert raw_value(Secret, "phone", secret.pk) == stored

    fresh = reload(secret)
    with pytest.raises(DecryptionError) as excinfo:
        _ = fresh.phone
    assert TABLE in str(excinfo.value)
    assert str(secret.pk) in str(excinfo.value)


@pytest.mark.parametrize(
    "text",
    ["090-1234-5678", "kk1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
    ids=["plaintext", "old-text-format"],
)
def test_a_text_value_left_in_the_column_fails_naming_the_row(text):
    # A value written as text (by hand, or by the old text format and kept by a column-type
    # migration: SQLite keeps a TEXT value in a BLOB column) must fail like any other malformed
    # value, on its own row: neither read back as if it were the plaintext nor break every
    # query of the table. (PostgreSQL casts the text to bytea.)
    secret, other = make_secret(), make_secret(phone="090-0000-0002")
    set_raw_value(Secret, "phone", secret.pk, text)

    datakeys.clear_cache()
    rows = {row.pk: row for row in Secret.objects.all()}
    with pytest.raises(DecryptionError) as excinfo:
        _ = rows[secret.pk].phone
    assert TABLE in str(excinfo.value)
    assert str(secret.pk) in str(excinfo.value)
    assert rows[other.pk].phone == "090-0000-0002"


# --- queries ----------------------------------------------------------------------------------
def test_queryset_update_of_an_encrypted_field_raises_type_error():
    secret = make_secret(phone="090-1234-5678")
    before = raw_value(Secret, "phone", secret.pk)

    with pytest.raises(TypeError, match="encrypted"), transaction.atomic():
        Secret.objects.filter(pk=secret.pk).update(phone="090-9999-9999")
    assert raw_value(Secret, "phone", secret.pk) == before


@pytest.mark.parametrize("lookup", ["phone", "phone__exact", "phone__in"])
def test_filtering_on_an_encrypted_field_raises_type_error(lookup):
    make_secret(phone="090-1234-5678")
    value = ["090-1234-5678"] if lookup.endswith("__in") else "090-1234-5678"

    with pytest.raises(TypeError, match="encrypted"):
        list(Secret.objects.filter(**{lookup: value}))


@pytest.mark.parametrize("lookup", ["phone__contains", "phone__icontains", "phone__startswith", "phone__gt"])
def test_pattern_and_range_lookups_on_an_encrypted_field_are_refused(lookup):
    # Comparing ciphertext with a plaintext pattern means nothing; it must not silently return
    # an (always wrong) result.
    make_secret(phone="090-1234-5678")

    with pytest.raises((TypeError, FieldError)):
        list(Secret.objects.filter(**{lookup: "090"}))


def test_values_list_and_values_return_sealed_values_not_plaintext():
    secret = make_secret(phone="090-3141-5926", note="円周率のメモ")

    phones = list(Secret.objects.filter(pk=secret.pk).values_list("phone", flat=True))
    rows = list(Secret.objects.filter(pk=secret.pk).values("note"))

    assert len(phones) == 1 and isinstance(phones[0], Sealed)
    assert isinstance(rows[0]["note"], Sealed)
    assert bytes(phones[0]) == raw_value(Secret, "phone", secret.pk)
    assert bytes(rows[0]["note"]) == raw_value(Secret, "note", secret.pk)
    for sealed, plaintext in [(phones[0], "3141"), (rows[0]["note"], "円周率")]:
        assert plaintext not in repr(sealed)
        assert plaintext not in str(sealed)
        assert plaintext.encode() not in sealed


# --- bulk reads -----------------------------------------------------------------------------
def test_a_queryset_loads_the_data_keys_of_all_its_members_in_one_query(django_assert_num_queries):
    members = [uuid.uuid4() for _ in range(4)]
    expected = {}
    for n in range(12):
        secret = make_secret(
            member_id=members[n % len(members)],
            phone=f"090-5555-{n:04d}",
            note=f"一覧 {n} 목록",
            links=[f"https://photos.example/list/{n}"],
        )
        expected[secret.pk] = (secret.phone, secret.note, secret.links)
    datakeys.clear_cache()

    with django_assert_num_queries(2):  # the rows, then the keys of all four members
        rows = list(Secret.objects.all())
    with django_assert_num_queries(0):
        read = {row.pk: (row.phone, row.note, row.links) for row in rows}

    assert read == expected


# --- blind index --------------------------------------------------------------------------------
def test_blind_index_finds_the_row_by_normalised_equal_value():
    secret = make_secret(phone="090-1234-5678")
    make_secret(phone="090-1234-5679")

    found = Secret.objects.filter(phone_index=Secret.phone_index_of("09012345678"))
    assert list(found.values_list("pk", flat=True)) == [secret.pk]
    assert Secret.objects.filter(phone_index=Secret.phone_index_of("090 1234 5678")).get().pk == secret.pk
    assert not Secret.objects.filter(phone_index=Secret.phone_index_of("090-1234-0000")).exists()


def test_blind_index_is_not_the_plaintext():
    secret = make_secret(phone="090-1234-5678")

    stored = raw_value(Secret, "phone_index", secret.pk)
    assert stored == Secret.phone_index_of("090-1234-5678")
    # Not the number in any written form (a 4-digit piece alone turns up in 1 random digest of
    # about 1,000, so the test looks for the whole number).
    assert "09012345678" not in stored and "1234-5678" not in stored
    assert len(stored) == 64


def test_blind_index_follows_a_changed_value():
    secret = make_secret(phone="090-1234-5678")
    secret = reload(secret)
    secret.phone = "080-0000-0001"
    secret.save()

    assert not Secret.objects.filter(phone_index=Secret.phone_index_of("09012345678")).exists()
    assert Secret.objects.filter(phone_index=Secret.phone_index_of("08000000001")).get().pk == secret.pk


@pytest.mark.parametrize("empty", [None, ""])
def test_blind_index_is_none_for_none_and_empty(empty):
    secret = make_secret(phone=empty)

    assert Secret.phone_index_of(empty) is None
    assert raw_value(Secret, "phone_index", secret.pk) is None


def test_saving_an_unread_row_keeps_its_blind_index():
    secret = make_secret(phone="090-1234-5678")

    reload(secret).save()

    assert raw_value(Secret, "phone_index", secret.pk) == Secret.phone_index_of("09012345678")


def test_saving_a_row_loaded_without_the_source_field_keeps_its_blind_index():
    secret = make_secret(phone="090-1234-5678")

    datakeys.clear_cache()
    partial = Secret.objects.defer("phone").get(pk=secret.pk)
    partial.note = "更新したメモ"
    partial.save()

    assert raw_value(Secret, "phone_index", secret.pk) == Secret.phone_index_of("09012345678")
    assert reload(secret).phone == "090-1234-5678"


@isolate_apps("kirakira.privacy.tests.testapp")
def test_blind_index_differs_between_columns_and_tables_for_the_same_value():
    class Contact(models.Model):
        id = models.UUIDField(primary_key=True, default=uuid.uuid4)
        member_id = models.UUIDField()
        phone = EncryptedCharField(max_length=30, null=True)
        phone_index = BlindIndexField(source="phone")
        mobile = EncryptedCharField(max_length=30, null=True)
        mobile_index = BlindIndexField(source="mobile")

        class Meta:
            app_label = "privacy_testapp"

    value = "09012345678"
    digests = {
        Secret.phone_index_of(value),
        Contact.phone_index_of(value),
        Contact.mobile_index_of(value),
    }
    assert len(digests) == 3
    assert None not in digests


def test_blind_index_depends_on_the_blind_index_key():
    before = Secret.phone_index_of("09012345678")
    try:
        with override_settings(PRIVACY_BLIND_INDEX_KEY=base64.b64encode(b"\x07" * 32).decode()):
            reset_keyring()
            after = Secret.phone_index_of("09012345678")
    finally:
        reset_keyring()

    assert after != before
    assert Secret.phone_index_of("09012345678") == before


# --- saving and loading -------------------------------------------------------------------------
def test_saving_an_unread_row_does_not_re_encrypt():
    secret = make_secret()
    before = {c: raw_value(Secret, c, secret.pk) for c in ("phone", "note", "links")}

    fresh = reload(secret)
    fresh.save()
    fresh.save(update_fields=["phone", "note", "links"])

    assert {c: raw_value(Secret, c, secret.pk) for c in ("phone", "note", "links")} == before


def test_changing_a_value_re_encrypts_with_a_new_nonce_under_the_same_key():
    secret = make_secret(phone="090-1234-5678")
    before = raw_value(Secret, "phone", secret.pk)

    fresh = reload(secret)
    fresh.phone = "080-1234-5678"
    fresh.save()

    after = raw_value(Secret, "phone", secret.pk)
    assert after != before
    assert stored_nonce(after) != stored_nonce(before)
    assert stored_key_id(after) == stored_key_id(before)
    assert reload(secret).phone == "080-1234-5678"


def test_read_then_saved_value_still_decrypts():
    secret = make_secret(phone="090-1234-5678", note="読んでから保存")

    fresh = reload(secret)
    assert fresh.note == "読んでから保存"
    fresh.save()

    again = reload(secret)
    assert (again.phone, again.note) == ("090-1234-5678", "読んでから保存")


def test_deferred_encrypted_fields_load_on_access():
    secret = make_secret(phone="090-1234-5678", note="遅延読み込み", links=["https://photos.example/d"])

    datakeys.clear_cache()
    partial = Secret.objects.only("id").get(pk=secret.pk)
    assert {"phone", "note", "links"} <= partial.get_deferred_fields()

    assert partial.phone == "090-1234-5678"
    assert partial.note == "遅延読み込み"
    assert partial.links == ["https://photos.example/d"]


def test_bulk_create_encrypts_and_indexes():
    member_id = uuid.uuid4()
    objs = [Secret(member_id=member_id, phone=f"090-0000-{n:04d}", note=f"一括 {n}") for n in range(3)]

    Secret.objects.bulk_create(objs)

    for n, obj in enumerate(objs):
        assert stored_key_id(raw_value(Secret, "phone", obj.pk)) == stored_key_id(
            raw_value(Secret, "note", obj.pk)
        )
        assert f"{n:04d}".encode() not in raw_value(Secret, "phone", obj.pk)
        assert "一括".encode() not in raw_value(Secret, "note", obj.pk)
        fresh = reload(obj)
        assert (fresh.phone, fresh.note) == (f"090-0000-{n:04d}", f"一括 {n}")
        assert Secret.objects.filter(phone_index=Secret.phone_index_of(f"0900000{n:04d}")).get().pk == obj.pk


def test_copying_a_row_under_a_new_primary_key_never_writes_an_unreadable_value():
    # The Django idiom for copying a row: clear the primary key and save. The copy must read
    # back the same values, or the save must refuse; a silently unreadable copy is data loss.
    original = make_secret(phone="090-1234-5678", note="コピー元")

    copy = reload(original)
    copy.pk = None
    copy.id = None
    try:
        copy.save(force_insert=True)
    except (ValueError, TypeError):
        return
    assert copy.pk != original.pk
    fresh = reload(copy)
    assert (fresh.phone, fresh.note) == ("090-1234-5678", "コピー元")


def test_a_queryset_that_defers_the_data_subject_does_not_query_once_per_row(
    django_assert_max_num_queries,
):
    members = [uuid.uuid4() for _ in range(2)]
    expected = {}
    for n in range(10):
        secret = make_secret(member_id=members[n % len(members)], phone=f"090-6666-{n:04d}")
        expected[secret.pk] = secret.phone
    datakeys.clear_cache()

    # The rows, then at most one query per data key; never one per row.
    with django_assert_max_num_queries(1 + len(members)):
        read = {row.pk: row.phone for row in Secret.objects.only("id", "phone")}

    assert read == expected


def test_value_to_string_gives_the_stored_bytes_in_base64_never_the_plaintext():
    secret = make_secret(phone="090-2718-2818", note="自然対数のメモ")
    field = Secret._meta.get_field("phone")

    unread = reload(secret)
    assert base64.b64decode(field.value_to_string(unread)) == raw_value(Secret, "phone", secret.pk)

    read = reload(secret)
    assert read.phone == "090-2718-2818"
    serialized = field.value_to_string(read)
    assert "2718" not in serialized
    assert field.open(read, assert_well_formed(base64.b64decode(serialized))) == "090-2718-2818"
    note = Secret._meta.get_field("note").value_to_string(reload(secret))
    assert "自然対数".encode() not in base64.b64decode(note)


@isolate_apps("kirakira.privacy.tests.testapp")
def test_copying_a_row_whose_primary_key_is_declared_after_its_encrypted_fields_stays_readable():
    # Same as above for a model declaring its primary key last (e.g. encrypted fields from an
    # abstract base): the model is refused by the check, or the copy refuses, or it reads back.
    class LateKey(models.Model):
        member_id = models.UUIDField()
        phone = EncryptedCharField(max_length=30, null=True)
        id = models.UUIDField(primary_key=True, default=uuid.uuid4)

        objects = EncryptedManager()

        class Meta:
            app_label = "privacy_testapp"

    if any(error.id.startswith("kirakira.privacy.") for error in LateKey.check()):
        return
    field = LateKey._meta.get_field("phone")
    original = LateKey(member_id=uuid.uuid4(), phone="090-1234-5678")
    stored = {
        "id": original.pk,
        "member_id": original.member_id,
        "phone": bytes(field.pre_save(original, True)),
    }
    names = [f.attname for f in LateKey._meta.concrete_fields]
    loaded = LateKey.from_db("default", names, [stored[name] for name in names])  # as a query does
    assert loaded.pk == original.pk

    loaded.pk = None
    loaded.pk = LateKey._meta.pk.get_pk_value_on_save(loaded)  # what save() does for the copy
    try:
        written = field.pre_save(loaded, True)
    except (ValueError, TypeError):
        return
    assert field.open(loaded, bytes(written)) == "090-1234-5678"


# --- system check -------------------------------------------------------------------------------
@isolate_apps("kirakira.privacy.tests.testapp")
def test_check_reports_encrypted_field_on_a_model_without_uuid_primary_key():
    class IntegerKeyed(models.Model):
        member_id = models.UUIDField()
        note = EncryptedTextField(null=True)

        class Meta:
            app_label = "privacy_testapp"

    class UuidWithoutDefault(models.Model):
        id = models.UUIDField(primary_key=True)
        member_id = models.UUIDField()
        note = EncryptedTextField(null=True)

        class Meta:
            app_label = "privacy_testapp"

    class UuidKeyed(models.Model):
        id = models.UUIDField(primary_key=True, default=uuid.uuid4)
        member_id = models.UUIDField()
        note = EncryptedTextField(null=True)

        class Meta:
            app_label = "privacy_testapp"

    integer_errors = [e for e in IntegerKeyed.check() if e.id == "kirakira.privacy.E010"]
    assert len(integer_errors) == 1
    assert "privacy_testapp.IntegerKeyed.note" in integer_errors[0].msg
    assert [e.id for e in UuidWithoutDefault.check()].count("kirakira.privacy.E010") == 1
    assert "kirakira.privacy.E010" not in [e.id for e in UuidKeyed.check()]


def test_installed_models_with_encrypted_fields_pass_the_check():
    assert "kirakira.privacy.E010" not in [e.id for e in Secret.check()]
