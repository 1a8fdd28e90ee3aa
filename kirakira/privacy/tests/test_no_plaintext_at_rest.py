"""No encrypted plaintext reaches the database's storage: the SQLite file (and its WAL) or a
PostgreSQL dump. A plaintext in an unencrypted column is found, and so is the stored ciphertext
of an encrypted (binary) column, so the scan itself works.

Encrypted columns are binary: raw bytes in the SQLite file, hex (``\\x0102...``) in a pg_dump,
so every plaintext is also looked for as the hex of its UTF-8 bytes."""

import base64
import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest
from django.db import connection

from kirakira.common.testing import MemberFactory
from kirakira.privacy.crypto import datakeys
from kirakira.privacy.models import DataKey
from kirakira.privacy.tests.testapp.models import PlainSecret, Secret


def database_bytes() -> bytes:
    """Everything the database holds at rest, as bytes."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        path = Path(connection.settings_dict["NAME"])
        assert path.is_file(), f"the test database is not a file: {path}"
        data = path.read_bytes()
        wal = path.with_name(path.name + "-wal")
        if wal.exists():
            data += wal.read_bytes()
        return data
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        command = ["pg_dump", "--no-password", "-h", db["HOST"] or "localhost", "-U", db["USER"]]
        if db.get("PORT"):
            command += ["-p", str(db["PORT"])]
        command.append(db["NAME"])
        env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
        result = subprocess.run(command, capture_output=True, env=env, timeout=120, check=False)
        assert result.returncode == 0, result.stderr.decode(errors="replace")
        assert b"CREATE TABLE" in result.stdout
        return result.stdout
    raise AssertionError(f"no at-rest scan for database vendor {connection.vendor!r}")


def binary_spellings(raw: bytes) -> list[bytes]:
    """The ways a database or a dump might spell binary data: as is, or as (lowercase) hex."""
    return [raw, raw.hex().encode("ascii")]


def encodings(text: str) -> list[bytes]:
    """The ways a database or a dump might spell the text (as text, or in a binary column)."""
    escaped = json.dumps(text)[1:-1]  # \\uXXXX escapes for non-ASCII
    return [
        *binary_spellings(text.encode("utf-8")),
        text.encode("utf-16-le"),
        escaped.encode("ascii"),
    ]


def found(data: bytes, text: str) -> bool:
    return any(encoded in data for encoded in encodings(text))


def stored_bytes(model, column, pk) -> bytes:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(column)} FROM {quote(model._meta.db_table)} WHERE {quote('id')} = %s",  # noqa: S608
            [model._meta.pk.get_db_prep_value(pk, connection)],
        )
        (value,) = cursor.fetchone()
    return bytes(value)


@pytest.mark.django_db(transaction=True)
def test_encrypted_plaintexts_do_not_appear_in_the_database_at_rest():
    tag = uuid.uuid4().hex[:10]
    digits = str(uuid.uuid4().int)[:8]
    phone = f"090-{digits[:4]}-{digits[4:]}"
    note = f"秘密のメモ {tag}：富士山の麓の家、合鍵は植木鉢の下"
    korean_note = f"비밀 메모 {tag} 열쇠는 화분 아래"
    link = f"https://photos.example/private-album-{tag}/写真.jpg"
    canary = f"plain-canary-{tag}-平文"

    member = MemberFactory()
    first = Secret.objects.create(
        member_id=member.pk, phone=phone, note=note, links=[link, {"caption": korean_note}]
    )
    Secret.objects.create(member_id=member.pk, phone=None, note=korean_note, links=None)
    PlainSecret.objects.create(member_id=member.pk, phone="000-0000-0000", note=canary)
    datakeys.clear_cache()
    assert Secret.objects.filter(phone_index=Secret.phone_index_of(phone)).get().note == note

    data = database_bytes()

    # Positive controls: the scan does see committed rows.
    assert found(data, canary), "the plain column's value was not found: the scan sees nothing"
    assert found(data, member.login_id)
    # ... and the binary columns, in the spelling the plaintexts are looked for in.
    for column in ("phone", "note", "links"):
        ciphertext = stored_bytes(Secret, column, first.pk)
        assert ciphertext[0] == 0x01, column
        assert any(spelling in data for spelling in binary_spellings(ciphertext)), column
    if connection.vendor == "postgresql":
        assert stored_bytes(Secret, "phone", first.pk).hex().encode() in data
    for plaintext in [
        phone,
        phone.replace("-", ""),
        digits,
        note,
        f"秘密のメモ {tag}",
        "富士山の麓の家",
        korean_note,
        "열쇠는 화분 아래",
        link,
        f"private-album-{tag}",
    ]:
        assert not found(data, plaintext), f"plaintext at rest: {plaintext!r}"


@pytest.mark.django_db(transaction=True)
def test_data_keys_are_not_stored_unwrapped():
    member = MemberFactory()
    Secret.objects.create(member_id=member.pk, phone="090-5555-0000")
    raw_key = datakeys._unwrap(DataKey.objects.get(owner_id=member.pk))
    assert len(raw_key) == 32

    data = database_bytes()

    for spelling in (
        raw_key,
        raw_key.hex().encode(),
        base64.b64encode(raw_key),
        base64.urlsafe_b64encode(raw_key),
    ):
        assert spelling not in data
