"""The encrypted file format of a backup archive.

Hand-written because no maintained library encrypts a stream of arbitrary size with
authenticated truncation detection under a symmetric key from settings: ``cryptography`` gives
one-shot AES-GCM and Fernet (both hold the whole plaintext in memory), and the ``age`` bindings
for Python work on whole byte strings. This is the STREAM construction (as ``age`` uses it):

    header   = MAGIC | version (1) | kind (1) | salt (16) | key check (8)
    chunk i  = length (4, big endian) | AES-256-GCM(file key, nonce = i (11 bytes) | last (1),
                                                   plaintext, aad = header)

The file key is HKDF-SHA256 of ``BACKUP_KEY`` with the file's random salt, so no two files share
a key and counters can start at zero. Only the last chunk is sealed with ``last = 1``: a file cut
anywhere, even between chunks, fails to open. The key check tells a wrong key apart from a
damaged file without decrypting anything.
"""

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

MAGIC = b"KIRAKIRA-BACKUP\n"
VERSION = 1
CHUNK = 1 << 20
SALT_BYTES = 16
CHECK_BYTES = 8
HEADER = struct.Struct(f">{len(MAGIC)}sBc{SALT_BYTES}s{CHECK_BYTES}s")
LENGTH = struct.Struct(">I")
TAG_BYTES = 16


class ArchiveError(Exception):
    """The archive cannot be read: the message says why, for the operator."""


def backup_key() -> bytes:
    value = settings.BACKUP_KEY
    if not value:
        raise ArchiveError(
            'BACKUP_KEY is not set: set it to base64 of 32 random bytes (python -c "import os, base64; '
            'print(base64.b64encode(os.urandom(32)).decode())") and keep it apart from the backups.'
        )
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ArchiveError("BACKUP_KEY is not valid base64.") from None
    if len(key) != 32:
        raise ArchiveError(f"BACKUP_KEY must be 32 bytes (base64 of 32 random bytes), not {len(key)}.")
    return key


def _key_check(key: bytes) -> bytes:
    return hmac.new(key, b"kirakira-backup-key-check", hashlib.sha256).digest()[:CHECK_BYTES]


def _file_key(key: bytes, salt: bytes) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"kirakira-backup-v1").derive(key)
    return AESGCM(derived)


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class Writer:
    """A file-like sink that encrypts what is written to it; ``close`` seals the last chunk."""

    def __init__(self, path, kind: bytes, key: bytes | None = None):
        key = key or backup_key()
        salt = os.urandom(SALT_BYTES)
        self._header = HEADER.pack(MAGIC, VERSION, kind, salt, _key_check(key))
        self._aead = _file_key(key, salt)
        # Owner-only from the first byte: the file is encrypted, but its size and times are not.
        self._file = os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
        self._file.write(self._header)
        self._buffer = bytearray()
        self._counter = 0

    def write(self, data) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK:
            self._seal(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def _seal(self, plain: bytes, *, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._counter, last), plain, self._header)
        self._file.write(LENGTH.pack(len(sealed)) + sealed)
        self._counter += 1

    def close(self) -> None:
        self._seal(bytes(self._buffer), last=True)
        self._buffer.clear()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()

    def abort(self) -> None:
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()


def decrypt_to(path, kind: bytes, sink, key: bytes | None = None) -> None:
    """Decrypt the archive at ``path`` into ``sink`` (a binary file), checking every chunk and
    that the file ends with its last chunk. Raises ``ArchiveError`` naming what is wrong."""
    key = key or backup_key()
    name = os.path.basename(str(path))
    try:
        source = open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise ArchiveError(f"{name}: cannot be opened ({exc.strerror}).") from None
    with source:
        header = source.read(HEADER.size)
        if len(header) < HEADER.size or not header.startswith(MAGIC):
            raise ArchiveError(f"{name} is not a Kirakira backup archive.")
        _magic, version, found_kind, salt, check = HEADER.unpack(header)
        if version != VERSION:
            raise ArchiveError(
                f"{name} is a backup archive of format {version}; this version reads {VERSION}."
            )
        if found_kind != kind:
            wanted = "database" if kind == b"D" else "key store"
            raise ArchiveError(f"{name} is not a {wanted} archive.")
        if not hmac.compare_digest(check, _key_check(key)):
            raise ArchiveError(f"{name} was encrypted with another BACKUP_KEY: set the key it was made with.")
        aead = _file_key(key, salt)
        counter = 0
        while True:
            length = source.read(LENGTH.size)
            if len(length) < LENGTH.size:
                raise ArchiveError(f"{name} is truncated: it ends before its last part.")
            (size,) = LENGTH.unpack(length)
            if size < TAG_BYTES or size > CHUNK + TAG_BYTES:
                raise ArchiveError(f"{name} is damaged (part {counter + 1} has an impossible length).")
            sealed = source.read(size)
            if len(sealed) < size:
                raise ArchiveError(f"{name} is truncated: it ends inside part {counter + 1}.")
            plain = None
            for last in (False, True):
                try:
                    plain = aead.decrypt(_nonce(counter, last), sealed, header)
                except InvalidTag:
                    continue
                break
            if plain is None:
                raise ArchiveError(f"{name} is damaged: part {counter + 1} does not authenticate.")
            sink.write(plain)
            counter += 1
            if last:
                if source.read(1):
                    raise ArchiveError(f"{name} is damaged: data follows its last part.")
                return
