"""Export files at rest: written and read as a stream, encrypted under the member's own key.

A finished export waits on disk for up to 7 days. It is a copy of everything held about the
member, so it is protected as the rows are: AES-256-GCM under the member's data key, chunk by
chunk (destroying the key destroys the file too), and deleted when its link expires.

The format is a header (``MAGIC`` and the data key's ID) and chunks, each its length (4 bytes),
its nonce and its ciphertext. Each chunk's associated data binds it to the request, its
position and whether it is the last, so a file cut short, reordered or moved to another
request fails to decrypt instead of yielding a different archive. Hand-written because the
``cryptography`` package offers AES-GCM but no streaming file format, and the file must never
be whole in memory.
"""

import logging
import os
import struct
import uuid
from collections.abc import Iterator
from pathlib import Path

from cryptography.exceptions import InvalidTag
from django.conf import settings
from django.db import transaction

from kirakira.common import clock
from kirakira.privacy.crypto import datakeys

MAGIC = b"KKX1"
CHUNK = 256 * 1024
_NONCE = 12
logger = logging.getLogger(__name__)


class ExportFileError(RuntimeError):
    """The file is missing, cut short or altered."""


def path_of(request) -> Path:
    return Path(settings.EXPORT_DIR) / f"{request.pk}.kkx"


def _aad(request_id: uuid.UUID, index: int, last: bool) -> bytes:
    return request_id.bytes + struct.pack(">QB", index, 1 if last else 0)


class EncryptedWriter:
    """A write-only, non-seekable file for ``zipfile.ZipFile``: buffers ``CHUNK`` bytes and
    writes each as one encrypted chunk. ``close()`` writes the last chunk (marked last)."""

    def __init__(self, request, target: Path):
        self.request_id = request.pk
        self.key = datakeys.key_for_owner(request.member_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        self.partial = target.with_suffix(".part")
        self.target = target
        self.file = open(self.partial, "wb")  # noqa: SIM115 (closed by close())
        os.chmod(self.partial, 0o600)
        self.file.write(MAGIC + self.key.id.bytes)
        self.buffer = bytearray()
        self.index = 0
        self.written = 0

    def write(self, data) -> int:
        self.buffer += data
        self.written += len(data)
        while len(self.buffer) > CHUNK:  # keep at least one byte: the last chunk is written by close()
            self._chunk(bytes(self.buffer[:CHUNK]), last=False)
            del self.buffer[:CHUNK]
        return len(data)

    def tell(self) -> int:
        return self.written

    def flush(self) -> None:
        pass

    def _chunk(self, plain: bytes, *, last: bool) -> None:
        nonce = os.urandom(_NONCE)
        sealed = self.key.aead.encrypt(nonce, plain, _aad(self.request_id, self.index, last))
        self.file.write(struct.pack(">I", len(sealed)) + nonce + sealed)
        self.index += 1

    def close(self) -> int:
        """Finish the file and move it into place; returns its size in plain bytes."""
        self._chunk(bytes(self.buffer), last=True)
        self.buffer.clear()
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.partial, self.target)
        return self.written

    def abort(self) -> None:
        self.file.close()
        self.partial.unlink(missing_ok=True)


def read(request) -> Iterator[bytes]:
    """The plain archive, chunk by chunk. Raises ``ExportFileError`` on a missing or damaged
    file (before the first chunk when it can), ``datakeys.DestroyedKey`` once the key is gone."""
    path = path_of(request)
    try:
        handle = open(path, "rb")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        raise ExportFileError("missing") from None
    with handle:
        header = handle.read(len(MAGIC) + 16)
        if len(header) != len(MAGIC) + 16 or not header.startswith(MAGIC):
            raise ExportFileError("header")
        key = datakeys.key_by_id(uuid.UUID(bytes=header[len(MAGIC) :]))
        if key.aead is None:
            raise datakeys.DestroyedKey(str(key.id))
        index = 0
        pending = _next(handle)
        while pending is not None:
            following = _next(handle)
            nonce, sealed = pending
            try:
                yield key.aead.decrypt(nonce, sealed, _aad(request.pk, index, following is None))
            except InvalidTag:
                raise ExportFileError("chunk") from None
            index += 1
            pending = following


def _next(handle):
    size = handle.read(4)
    if not size:
        return None
    if len(size) != 4:
        raise ExportFileError("truncated")
    (length,) = struct.unpack(">I", size)
    nonce = handle.read(_NONCE)
    sealed = handle.read(length)
    if len(nonce) != _NONCE or len(sealed) != length:
        raise ExportFileError("truncated")
    return nonce, sealed


def delete(request) -> bool:
    path = path_of(request)
    path.with_suffix(".part").unlink(missing_ok=True)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def dispose_expired(disposal, context) -> None:
    """The retention sweep's disposal of export files whose link has expired: the file is
    deleted and the request forgets it (the request itself stays, under its own rule)."""
    from kirakira.privacy.retention.ledger import Method

    from .models import RightsRequest

    rows = RightsRequest.objects.filter(expires_at__lte=context.now).exclude(file_name="")
    if context.held:
        held = rows.filter(member_id__in=context.held).count()
        context.count(disposal.rule.code, "privacy.RightsRequest", Method.HELD, held)
        rows = rows.exclude(member_id__in=context.held)
    if context.dry_run:
        context.count(disposal.rule.code, "privacy.RightsRequest", Method.DELETED, rows.count())
        return
    for request in rows.only("pk", "member_id", "expires_at").iterator():
        with transaction.atomic():
            RightsRequest.objects.filter(pk=request.pk).update(file_name="", file_size=None)
            context.count(
                disposal.rule.code,
                "privacy.RightsRequest",
                Method.DELETED,
                1,
                request.expires_at,
                request.expires_at,
            )
            transaction.on_commit(lambda request=request: delete(request))
    logger.info("export files disposed", extra={"at": clock.now().isoformat()})
