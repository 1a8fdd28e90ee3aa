"""Taking a backup and restoring one.

A backup is two files: ``FILE`` (the database without its data keys' rows) and ``FILE.keys``
(the wrapped data keys), each encrypted under ``BACKUP_KEY`` (``container``). They can be kept
apart and for different times; a restore needs both, the master keys that wrapped the data keys,
and the disposal journal (``kirakira/privacy/retention/journal.py``) of the installation.

A restore checks everything it can before it writes anything: both archives open and are whole,
they belong together, the database is empty and of the backup's kind, the code knows every
migration the backup has, and the master keys open the data keys. Then it loads the copy, runs
the migrations the code has since, re-applies what the journal logged after the backup started,
and runs the retention sweep, so that nothing disposed of since the backup comes back.
"""

import json
import os
import shutil
import struct
import tempfile
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from kirakira.common import clock
from kirakira.privacy.retention import journal

from . import container, database, keystore, replay
from .container import ArchiveError

FORMAT = 1
DATABASE, KEYS = b"D", b"K"
PREFIX = struct.Struct(">Q")  # the manifest's length, before it, in a database archive


def keys_path_for(path: Path) -> Path:
    return path.with_name(path.name + ".keys")


@dataclass
class BackupResult:
    backup_id: str
    started_at: datetime
    database_bytes: int
    keys: int
    keys_bytes: int


@dataclass
class RestoreResult:
    backup_id: str
    backup_started_at: datetime
    keys: int
    migrations_applied: int
    replayed: Counter = field(default_factory=Counter)
    swept: int = 0
    pending_tasks: int = 0


def _private_dir(near: Path) -> Path:
    # Beside the output (same file system, so the final rename is atomic); only the owner reads
    # the plaintext copy, which is deleted when done.
    return Path(tempfile.mkdtemp(prefix=".kirakira-backup-", dir=near))


def _applied_migrations() -> list[list[str]]:
    return sorted([app, name] for app, name in MigrationRecorder(connection).applied_migrations())


def backup_create(output: Path, keys_output: Path | None = None) -> BackupResult:
    """Write the database archive to ``output`` and the key-store archive to ``keys_output``
    (``output`` + ``.keys``). Neither file appears unless it is complete."""
    output = Path(output)
    keys_output = Path(keys_output) if keys_output else keys_path_for(output)
    key = container.backup_key()
    for path in (output, keys_output):
        if path.exists():
            raise ArchiveError(
                f"{path} already exists: choose a new name (a backup never overwrites another)."
            )
        if not path.parent.is_dir():
            raise ArchiveError(f"The directory {path.parent} does not exist.")
    backup_id = str(uuid.uuid4())
    # The journal cut-off: a disposal logged from now on may be missing from the copy.
    started_at = clock.now()
    work = _private_dir(output.parent)
    try:
        dump = work / "database"
        database.dump(dump)
        manifest = {
            "format": FORMAT,
            "backup_id": backup_id,
            "started_at": started_at.isoformat(),
            "vendor": database.vendor(),
            "migrations": _applied_migrations(),
        }
        # The keys are read after the copy: a key made meanwhile is only extra, never missing.
        keys = keystore.rows()
        _write_database(work / "database.part", key, manifest, dump)
        keys_manifest = {
            "format": FORMAT,
            "backup_id": backup_id,
            "started_at": started_at.isoformat(),
            "count": len(keys),
            "master_key_ids": sorted({row["master_key_id"] for row in keys if row.get("wrapped_key")}),
        }
        with container.Writer(work / "keys.part", KEYS, key) as sink:
            sink.write(json.dumps(keys_manifest).encode() + b"\n")
            sink.write(keystore.dumps(keys))
        os.replace(work / "database.part", output)
        os.replace(work / "keys.part", keys_output)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BackupResult(
        backup_id=backup_id,
        started_at=started_at,
        database_bytes=output.stat().st_size,
        keys=len(keys),
        keys_bytes=keys_output.stat().st_size,
    )


def _write_database(path: Path, key: bytes, manifest: dict, dump: Path) -> None:
    encoded = json.dumps(manifest).encode()
    with container.Writer(path, DATABASE, key) as sink, open(dump, "rb") as source:
        sink.write(PREFIX.pack(len(encoded)) + encoded)
        shutil.copyfileobj(source, sink, container.CHUNK)


class _Split:
    """Receives a decrypted database archive: the manifest into memory, the copy into a file."""

    def __init__(self, path: Path):
        self.head = bytearray()
        self.manifest_length = None
        self.file = open(path, "wb")  # noqa: SIM115 (closed by the caller)

    def write(self, data: bytes) -> None:
        if self.manifest_length is None or len(self.head) < PREFIX.size + self.manifest_length:
            self.head += data
            if self.manifest_length is None and len(self.head) >= PREFIX.size:
                (self.manifest_length,) = PREFIX.unpack(self.head[: PREFIX.size])
                if self.manifest_length > 1 << 24:
                    raise ArchiveError("The database archive's content is not what a backup writes.")
            if self.manifest_length is not None and len(self.head) > PREFIX.size + self.manifest_length:
                rest = self.head[PREFIX.size + self.manifest_length :]
                del self.head[PREFIX.size + self.manifest_length :]
                self.file.write(rest)
            return
        self.file.write(data)

    def manifest(self) -> dict:
        try:
            return json.loads(self.head[PREFIX.size :].decode())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ArchiveError("The database archive's content is not what a backup writes.") from None


def _read(archive: Path, keys_archive: Path, work: Path, key: bytes) -> tuple[dict, dict, list[dict]]:
    split = _Split(work / "database")
    try:
        container.decrypt_to(archive, DATABASE, split, key)
    finally:
        split.file.close()
    manifest = split.manifest()

    class _Memory(bytearray):
        def write(self, data):
            self.extend(data)

    plain = _Memory()
    container.decrypt_to(keys_archive, KEYS, plain, key)
    first, _newline, rest = bytes(plain).partition(b"\n")
    try:
        keys_manifest = json.loads(first)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ArchiveError(f"{keys_archive.name}: its content is not what a backup writes.") from None
    keys = keystore.loads(rest)
    return manifest, keys_manifest, keys


def _check(archive: Path, keys_archive: Path, manifest: dict, keys_manifest: dict, keys: list[dict]) -> None:
    if manifest.get("format") != FORMAT or keys_manifest.get("format") != FORMAT:
        raise ArchiveError(
            f"The archives are of format {manifest.get('format')}; this version reads {FORMAT}."
        )
    if manifest.get("backup_id") != keys_manifest.get("backup_id"):
        raise ArchiveError(f"{keys_archive.name} belongs to another backup than {archive.name}.")
    if keys_manifest.get("count") != len(keys):
        raise ArchiveError(
            f"{keys_archive.name} holds {len(keys)} keys where it says {keys_manifest.get('count')}."
        )
    if manifest.get("vendor") != database.vendor():
        raise ArchiveError(
            f"{archive.name} is a backup of a {manifest.get('vendor')} database; DATABASE_URL names a "
            f"{database.vendor()} one."
        )
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = [f"{app}.{name}" for app, name in manifest.get("migrations", []) if (app, name) not in known]
    if unknown:
        raise ArchiveError(
            f"The backup was taken by a newer version of Kirakira (it has migrations this code does not: "
            f"{', '.join(unknown[:5])}): restore it with that version."
        )
    keystore.check_unwrappable(keys, journal.retired_master_keys())
    if not database.is_empty():
        tables = len(connection.introspection.table_names())
        raise ArchiveError(
            f"The database {connection.settings_dict['NAME']!s} is not empty ({tables} tables): a restore goes only "
            "into an empty database. Create a new one and point DATABASE_URL at it."
        )


def restore(archive: Path, keys_archive: Path | None = None) -> RestoreResult:
    """Restore the backup into the empty database ``DATABASE_URL`` names. Every check runs
    before anything is written: on ``ArchiveError`` the database is as it was."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from kirakira.privacy.crypto import datakeys
    from kirakira.privacy.retention import sweep
    from kirakira.privacy.retention.models import DisposalRun

    archive = Path(archive)
    keys_archive = Path(keys_archive) if keys_archive else keys_path_for(archive)
    key = container.backup_key()
    parent = archive.resolve().parent
    work = _private_dir(parent if os.access(parent, os.W_OK) else None)
    try:
        manifest, keys_manifest, keys = _read(archive, keys_archive, work, key)
        _check(archive, keys_archive, manifest, keys_manifest, keys)
        database.load(work / "database")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    before = len(_applied_migrations())
    loaded = keystore.insert(keys)
    call_command("migrate", interactive=False, verbosity=0)
    datakeys.clear_cache()
    started_at = datetime.fromisoformat(manifest["started_at"])
    result = RestoreResult(
        backup_id=manifest["backup_id"],
        backup_started_at=started_at,
        keys=loaded,
        migrations_applied=len(_applied_migrations()) - before,
    )
    result.replayed = replay.replay(since=started_at)
    result.swept = sweep.run(trigger=DisposalRun.Trigger.RESTORE).count()
    # Work queued before the backup that may have run since (an email sent again): reported, so
    # that the operator knows before starting the workers.
    result.pending_tasks = DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
    ).count()
    datakeys.clear_cache()
    return result
