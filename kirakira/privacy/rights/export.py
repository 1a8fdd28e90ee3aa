"""Building a member's export (policy C7): a ZIP of everything the service holds about them,
written as a stream into the encrypted file (``export_files``) their download link serves.

- ``data.json``: every record, grouped by model and read from the catalog: for each
  declaration with a data subject, the member's rows and every declared column, decrypted. A
  new declaration is exported without new code. Left out: credentials and one-way hashes
  (``SECRETS``; a copy helps nobody but an attacker), the few columns of a member's row that
  describe someone else (``OTHERS``), and each field under correction (``null``, named in the
  row's ``under_correction``: policy C7, it is not provided until corrected). Other people on
  the staff appear by the pseudonym of the member's access-log page, never by name or ID.
- ``schema.json``: the JSON Schema of data.json (``export_schema``).
- ``index.html``: the same for a person, in the member's language, self-contained.
- ``attachments/<id>/<name>``: the consultations' files, decrypted.

Nothing is ever whole in memory: rows come from ``iterator()`` and go one by one into the ZIP,
and the ZIP straight into the encrypted writer. Each row is read once and written twice: into
data.json, and into index.html's rows, which wait in an encrypted temporary file (``_Spool``)
because a ZIP takes one open member at a time. Attachments are read again, a few at a time, to
be written as files. The number of queries depends on the catalog, never on the number of rows.
"""

import base64
import html
import json
import logging
import os
import re
import secrets
import tempfile
import unicodedata
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, pgettext

from kirakira.common import clock
from kirakira.privacy.catalog import Protection, catalog
from kirakira.privacy.catalog.declarations import ModelDeclaration
from kirakira.privacy.catalog.vocabulary import Context
from kirakira.privacy.crypto.fields import BlindIndexField, EncryptedBinaryField, EncryptedMixin

from . import export_files, services
from .models import OPEN, Kind, RightsRequest

logger = logging.getLogger(__name__)

FORMAT = "kirakira-export"
FORMAT_VERSION = 1
# Rows per fetch: one query per model however many rows (a cursor is read in chunks); large
# enough that SQLite's and psycopg's per-fetch overhead vanishes, small enough to stay flat.
CHUNK = 2000
# Attachments carry their whole file: a few at a time keeps memory at a few files.
ATTACHMENT_CHUNK = 4
_FLUSH = 256 * 1024
ZIP_LEVEL = 1  # deflate's fastest level: JSON and HTML still shrink about eight-fold

# Columns never exported, whatever their declaration says: credentials (a session key, a
# token's digest, a second factor's secret) and one-way hashes. Declared ONE_WAY fields and
# blind indexes are left out without being named here.
SECRETS: dict[str, frozenset[str]] = {
    "accounts.User": frozenset({"password"}),
    "accounts.BrowserSession": frozenset({"session_key", "session_data"}),
    "accounts.MemberToken": frozenset({"token"}),  # knox's digest of the token
    "knox.AuthToken": frozenset({"digest", "token_key"}),
    "accounts.KnownLoginAddress": frozenset({"address_hash"}),
    "orders.IdempotencyKey": frozenset({"key_digest", "request_digest"}),
    "privacy.IdentityCode": frozenset({"digest"}),
    "otp_totp.TOTPDevice": frozenset({"key"}),
    "otp_static.StaticToken": frozenset({"token"}),
}
# Columns of the member's own rows that are about someone else: the connection of the staff
# member who changed an account's rights, a withdrawn account's record a registration matched.
OTHERS: dict[str, frozenset[str]] = {
    "privacy.PermissionChange": frozenset({"ip_address", "request_id"}),
    "privacy.RegistrationMatch": frozenset({"retained"}),
}
# Rows that name the member but are not handed out by the automatic export, and why. Staff
# make their requests to the privacy officer (services refuse them), so the first three matter
# only for a former staff member; a legal hold is not announced to the person it concerns.
WITHHELD: dict[str, str] = {
    "privacy.StaffAccessRecord": "the work done as staff on other people's data",
    "admin.LogEntry": "the changes made as staff to other people's records",
    "privacy.AccessReview": "the review of other people's accesses, done as staff",
    "privacy.LegalHold": "ground 1: told to the member only by the privacy officer, when the law allows",
}
# Rows shown under a section of their own: the accesses to the member's data, as the member's
# access-log page shows them (transparency.py), rather than the bare rows linking them.
ELSEWHERE: dict[str, str] = {
    "privacy.StaffAccessSubject": "staff_access_log",
    "disclosures.DisclosedData": "disclosures",
    "disclosures.CorrectionNotice": "disclosures",
}
# Models without a subject of their own whose rows belong to a member through another row.
BELONGS_THROUGH: dict[str, str] = {"orders.OrderEvent": "order__member"}
# Values from a related row, for a reader: the number of the policy version, not its row ID.
EXTRAS: dict[str, tuple[tuple[str, str], ...]] = {
    "privacy.PolicyAcknowledgement": (("version_number", "version__number"),),
    "legal.TermsAgreement": (("version_number", "version__number"),),
}

# index.html is opened from the member's disk, never served under the site's CSP, and must
# carry its look with it: its one <style> element is added here, where the templates' scan for
# inline code (served pages allow none) does not apply.
INDEX_STYLE = mark_safe(  # noqa: S308 - a constant
    """<style>
body { font-family: system-ui, -apple-system, "Hiragino Sans", "Noto Sans JP", "Malgun Gothic", sans-serif;
  margin: 1.5rem; line-height: 1.5; color: #222; }
h1 { font-size: 1.6rem; }
h2 { font-size: 1.3rem; border-bottom: 2px solid #ccc; margin-top: 2.5rem; }
h3 { font-size: 1.1rem; margin-top: 1.8rem; }
.count { color: #666; font-size: .9rem; font-weight: normal; }
dl.about { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; font-size: .9rem;
  margin: .5rem 0; }
dl.about dt { font-weight: bold; }
dl.about dd { margin: 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: .85rem; }
th, td { border: 1px solid #ccc; padding: .2rem .4rem; text-align: left; vertical-align: top;
  white-space: pre-wrap; overflow-wrap: anywhere; }
th { background: #f3f3f3; }
td.frozen { font-style: italic; color: #8a4b00; }
nav ul { margin: .2rem 0; }
</style>"""
)


# --- what is exported: the plan, from the catalog --------------------------------------------------
@dataclass(frozen=True)
class Column:
    name: str  # the key in data.json: the model field's name
    path: str  # what is loaded: the attribute (or lookup, for an extra)
    field: models.Field
    kind: str  # "value", "encrypted", "person" (a user: the member or a pseudonym), "file"
    freezable: bool  # may be under correction

    @property
    def label(self):
        return self.field.verbose_name


@dataclass(frozen=True)
class Section:
    label: str  # "orders.Order"
    model: type[models.Model]
    declaration: ModelDeclaration
    lookup: str  # from the model to the member's ID
    columns: tuple[Column, ...]
    extras: tuple[tuple[str, str], ...] = ()

    @property
    def instances(self) -> bool:
        """Rows are loaded as instances (to decrypt), else as tuples (faster)."""
        return any(column.kind in ("encrypted", "file") for column in self.columns)

    @property
    def name(self):
        return self.model._meta.verbose_name_plural

    @property
    def key(self) -> str:
        return self.label.replace(".", "-").lower()

    def subject_column(self) -> int | None:
        """The position of the column that holds the member's ID itself (``member``), if any."""
        return next(
            (i for i, c in enumerate(self.columns) if c.name == self.lookup and not c.freezable), None
        )

    def queryset(self, member) -> models.QuerySet:
        from .selectors import MEMBER_ROWS  # staff's internal notes: not shown on My data either

        meta = self.model._meta
        rows = self.model._base_manager.filter(**{self.lookup: member.pk})
        if self.label in MEMBER_ROWS:
            rows = rows.filter(MEMBER_ROWS[self.label])
        return rows.order_by(*(meta.ordering or ["pk"]))


def _lookup(declaration: ModelDeclaration) -> str | None:
    from kirakira.privacy.access_log.collector import subject_path

    if declaration.model_label in BELONGS_THROUGH:
        return BELONGS_THROUGH[declaration.model_label]
    path = subject_path(declaration.model)
    return path.lookup if path is not None else None


def left_out(declaration: ModelDeclaration, model_field) -> bool:
    """A column not exported: a credential, a one-way hash, or someone else's."""
    name = model_field.name
    label = declaration.model_label
    if name in SECRETS.get(label, ()) or name in OTHERS.get(label, ()):
        return True
    if isinstance(model_field, BlindIndexField):
        return True
    entry = declaration.fields.get(name)
    return entry is not None and entry.protection == Protection.ONE_WAY


def _column(declaration: ModelDeclaration, model_field, freezable: set[str]) -> Column:
    user_model = get_user_model()
    if isinstance(model_field, EncryptedBinaryField):
        kind = "file"
    elif getattr(model_field, "encrypts", False):
        kind = "encrypted"
    elif model_field.is_relation and model_field.related_model is user_model:
        kind = "person"
    else:
        kind = "value"
    path = model_field.name if kind in ("encrypted", "file") else model_field.attname
    return Column(model_field.name, path, model_field, kind, model_field.name in freezable)


def plan() -> list[Section]:
    """Every model whose rows are exported, with its columns: by the policy's contexts, then in the
    catalog's order."""
    from .correction import correctable

    corrections = correctable()
    sections = []
    for declaration in catalog.declarations():
        label = declaration.model_label
        if label in WITHHELD or label in ELSEWHERE:
            continue
        if not (declaration.subject or label in BELONGS_THROUGH):
            continue
        lookup = _lookup(declaration)
        if lookup is None:
            continue
        model = declaration.model
        freezable = set(corrections.get(label, (None, {}))[1])
        columns = tuple(
            _column(declaration, model_field, freezable)
            for model_field in model._meta.concrete_fields
            if declaration.covers(model_field.name) and not left_out(declaration, model_field)
        )
        sections.append(Section(label, model, declaration, lookup, columns, EXTRAS.get(label, ())))
    order = {context: number for number, context in enumerate(Context)}
    return sorted(sections, key=lambda section: order[section.declaration.context])


def extra_field(model, path: str) -> models.Field:
    *relations, last = path.split("__")
    for name in relations:
        model = model._meta.get_field(name).related_model
    return model._meta.get_field(last)


# --- reading the member's rows ---------------------------------------------------------------------
@dataclass
class Reader:
    """Reads a section's rows as lists of values in column order (extras last), each field
    under correction as ``None``; the row's frozen fields come with it."""

    member: object
    corrections: dict[str, dict[str, set[str]]]  # label -> row's pk as text -> frozen fields
    pseudonyms: dict = field(default_factory=dict)

    def person(self, value):
        if value is None or value == self.member.pk:
            return value
        code = self.pseudonyms.get(value)
        if code is None:
            from kirakira.privacy.access_log.transparency import pseudonym_code

            code = self.pseudonyms[value] = pseudonym_code(value)
        return code

    def rows(self, section: Section, *, files: bool = False) -> Iterator[tuple[list, frozenset]]:
        frozen_rows = self.corrections.get(section.label, {})
        queryset = section.queryset(self.member)
        file_column = next((c for c in section.columns if c.kind == "file"), None)
        # The column naming the member is the member, on every row: not read, filled in.
        own = section.subject_column()
        own_id = self.member.pk
        if section.instances:
            loaded = [
                c.path
                for i, c in enumerate(section.columns)
                if i != own and not (c.kind == "file" and not files)
            ]
            queryset = queryset.only(*loaded)
            if section.extras:
                queryset = queryset.annotate(**{name: F(path) for name, path in section.extras})
            getters = [
                (lambda row, data: own_id) if i == own else _getter(c) for i, c in enumerate(section.columns)
            ]
            getters += [_plain(name) for name, _path in section.extras]
            rows = (
                (row.pk, [get(row, row.__dict__) for get in getters])
                for row in queryset.iterator(chunk_size=ATTACHMENT_CHUNK if files else CHUNK)
            )
        else:
            paths = ["pk", *(c.path for i, c in enumerate(section.columns) if i != own)]
            paths += [path for _name, path in section.extras]
            rows = ((values[0], list(values[1:])) for values in queryset.values_list(*paths).iterator(CHUNK))
            if own is not None:
                rows = _with_member(rows, own, own_id)
        persons = [i for i, c in enumerate(section.columns) if c.kind == "person" and i != own]
        for pk, values in rows:
            for i in persons:
                values[i] = self.person(values[i])
            frozen = frozenset(frozen_rows.get(str(pk), ())) if frozen_rows else frozenset()
            if frozen:
                for i, column in enumerate(section.columns):
                    if column.name in frozen:
                        values[i] = None
            if file_column is not None:
                _file_value(section, values, frozen, pk, files)
            yield values, frozen


def _with_member(rows, at: int, member_id):
    for pk, values in rows:
        values.insert(at, member_id)
        yield pk, values


def _plain(name):
    return lambda row, data: data[name]


def _getter(column: Column) -> Callable:
    if column.kind == "value" or column.kind == "person":
        return _plain(column.path)
    name = column.path
    if column.kind == "file":  # deferred unless the files are read
        return lambda row, data: getattr(row, name) if name in data else None
    return lambda row, data: getattr(row, name)


def _file_value(section: Section, values: list, frozen: frozenset, pk, files: bool) -> None:
    """The file column's value: its path in the ZIP (the file itself when ``files``)."""
    names = [c.name for c in section.columns]
    at = next(i for i, c in enumerate(section.columns) if c.kind == "file")
    if section.columns[at].name in frozen:
        return
    filename = values[names.index("filename")] if "filename" in names else None
    path = f"attachments/{pk}/{safe_name(filename)}"
    values[at] = (path, values[at]) if files else path


def safe_name(filename) -> str:
    """A file name for a path in the ZIP: no directories, no control characters, not empty."""
    name = unicodedata.normalize("NFC", str(filename or "")).replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().strip(".")
    return name[:120] or "file"


def open_corrections(member) -> dict[str, dict[str, set[str]]]:
    """The member's fields under correction (policy C7), in one query: a correction names a
    row of the member's own (``correction.clean``), so the member's open requests are all."""
    found: dict[str, dict[str, set[str]]] = {}
    rows = RightsRequest.objects.open_corrections().filter(member=member)
    for target, target_id, target_field in rows.values_list("target", "target_id", "target_field"):
        found.setdefault(target, {}).setdefault(target_id, set()).add(target_field)
    return found


# --- writing ----------------------------------------------------------------------------------------
class _Out:
    """Text written into one member of the ZIP, in blocks rather than a call per row."""

    def __init__(self, handle):
        self.handle = handle
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size >= _FLUSH:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.handle.write("".join(self.parts).encode())
            self.parts.clear()
            self.size = 0


class _Spool(_Out):
    """index.html's rows, written as data.json's are read: a ZIP takes one member at a time,
    and reading every row again for the page would double the time of an export. They wait in
    an anonymous temporary file (gone when it is closed, or with the process), sealed block by
    block under a key that exists only in this object, like the export file itself; each
    section's blocks are read back in place of its marker."""

    def __init__(self):
        directory = Path(settings.EXPORT_DIR)
        directory.mkdir(parents=True, exist_ok=True)
        super().__init__(tempfile.TemporaryFile(dir=directory))  # noqa: SIM115 (closed on leaving the block)
        self.aead = AESGCM(AESGCM.generate_key(bit_length=256))
        self.segments: dict[str, tuple[int, int]] = {}
        self.started = 0

    def flush(self) -> None:
        if self.parts:
            offset = self.handle.tell()
            nonce = os.urandom(12)
            sealed = self.aead.encrypt(nonce, "".join(self.parts).encode(), offset.to_bytes(8, "big"))
            self.handle.write(len(sealed).to_bytes(4, "big") + nonce + sealed)
            self.parts.clear()
            self.size = 0

    def begin(self) -> None:
        self.flush()
        self.started = self.handle.tell()

    def end(self, key: str) -> None:
        self.flush()
        self.segments[key] = (self.started, self.handle.tell())

    def read(self, key: str) -> Iterator[bytes]:
        start, stop = self.segments[key]
        self.handle.seek(start)
        while self.handle.tell() < stop:
            offset = self.handle.tell()
            length = int.from_bytes(self.handle.read(4), "big")
            nonce = self.handle.read(12)
            yield self.aead.decrypt(nonce, self.handle.read(length), offset.to_bytes(8, "big"))

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.handle.close()


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal | Promise):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_default).encode
_string = json.encoder.encode_basestring  # JSON text of a str, without escaping non-ASCII
_INTEGERS = (models.AutoField, models.BigAutoField, models.SmallAutoField, models.IntegerField)


def _json_cell(column: Column | None) -> Callable:
    """How a value of ``column`` is written in data.json: a column's values are of one type, so
    each is written by a function made for it (a general encoder per row would cost twice)."""
    model_field = None if column is None else column.field
    if model_field is not None and model_field.is_relation and column.kind != "person":
        model_field = model_field.target_field
    if (
        column is None
        or isinstance(model_field, models.JSONField)
        or getattr(model_field, "plain_text", True) is False
    ):
        if column is not None and column.kind == "file":
            return lambda value: "null" if value is None else _string(value)
        return _dumps
    if column.kind == "person" or isinstance(model_field, models.UUIDField):
        # A UUID or a staff pseudonym: hex digits, capitals and dashes, nothing to escape.
        return lambda value: "null" if value is None else f'"{value}"'
    if isinstance(model_field, models.BooleanField):
        return lambda value: "null" if value is None else ("true" if value else "false")
    if isinstance(model_field, _INTEGERS):
        return lambda value: "null" if value is None else str(int(value))
    if isinstance(model_field, models.DateTimeField | models.DateField):
        return lambda value: "null" if value is None else f'"{value.isoformat()}"'
    if isinstance(model_field, models.CharField | models.TextField | models.GenericIPAddressField):
        return lambda value: "null" if value is None else _string(str(value))
    return _dumps


class _Progress:
    def __init__(self, request_id):
        self.request_id = request_id
        self.reported = -1

    def __call__(self, percent: int) -> None:
        step = percent // 10 * 10
        if step > self.reported:
            self.reported = step
            services.export_progress(self.request_id, step)


@dataclass
class _Build:
    request: RightsRequest
    member: object
    sections: list[Section]
    reader: Reader
    progress: _Progress
    generated_at: datetime
    counts: dict[str, int] = field(default_factory=dict)
    access_count: int = 0
    disclosures: list = field(default_factory=list)

    # -- data.json, and index.html's rows -------------------------------------------------------
    def data_json(self, out: _Out, spool: _Spool) -> None:
        head = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "generated_at": self.generated_at,
            "language": translation.get_language(),
            "request": {"id": self.request.pk, "reference": self.request.reference},
            "member": self.member.pk,
        }
        out.write(_dumps(head)[:-1] + ',"records":{')
        frozen_text = html.escape(pgettext("export", "under correction"))
        for number, section in enumerate(self.sections):
            if number:
                out.write(",")
            out.write(f'\n{_dumps(section.label)}:{_dumps(self.section_head(section))[:-1]},"rows":[')
            names = [c.name for c in section.columns] + [name for name, _path in section.extras]
            keys = [_string(name) + ":" for name in names]
            writers = [_json_cell(c) for c in section.columns] + [
                _json_cell(None) for _extra in section.extras
            ]
            cells = [_html_cell(c, self.member) for c in section.columns]
            cells += [_html_cell(None, self.member) for _extra in section.extras]
            spool.begin()
            count = 0
            for values, frozen in self.reader.rows(section):
                row = ",".join(
                    [key + write(value) for key, write, value in zip(keys, writers, values, strict=True)]
                )
                if frozen:
                    row += ',"under_correction":' + _dumps(sorted(frozen & set(names)))
                    html_cells = [
                        f'<td class="frozen">{frozen_text}</td>'
                        if name in frozen
                        else f"<td>{cell(value)}</td>"
                        for name, cell, value in zip(names, cells, values, strict=True)
                    ]
                else:
                    html_cells = [
                        f"<td>{cell(value)}</td>" for cell, value in zip(cells, values, strict=True)
                    ]
                out.write(("\n,{" if count else "\n{") + row + "}")
                spool.write("<tr>" + "".join(html_cells) + "</tr>\n")
                count += 1
            spool.end(section.key)
            self.counts[section.label] = count
            out.write("]}")
            self.progress(5 + 80 * (number + 1) // len(self.sections))
        out.write('},\n"staff_access_log":[')
        moment = _html_cell_for_datetime()
        spool.begin()
        count = 0
        for access in self.accesses():
            out.write(("\n," if count else "\n") + _dumps(access))
            cells = (
                moment(access["occurred_at"]),
                html.escape(gettext("Staff %(pseudonym)s") % {"pseudonym": access["staff"]}),
                html.escape(", ".join(access["role_labels"])),
                html.escape(access["action_label"]),
                html.escape(", ".join(access["item_labels"])),
                html.escape(access["reason"]),
            )
            spool.write("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>\n")
            count += 1
        spool.end("staff_access_log")
        self.access_count = count
        # Cookie choices are kept under a random ID that only the visitor's browser holds (policy
        # C8): nothing ties them to the account. Provisions required by law: those the member may
        # be told of today (the disclosures app).
        from kirakira.disclosures.selectors import told_rows

        self.disclosures = told_rows(self.member)
        out.write('],\n"consents":[],\n"disclosures":' + _dumps(self.disclosures) + "}\n")
        out.flush()

    def section_head(self, section: Section) -> dict:
        declaration = section.declaration
        return {
            "name": section.name,
            "context": declaration.context,
            "context_label": Context(declaration.context).label,
            "items": [str(item) for item in items_of(declaration)],
        }

    def accesses(self) -> Iterator[dict]:
        from kirakira.privacy.access_log import transparency

        for record in transparency.accesses_of(self.member).iterator(chunk_size=CHUNK):
            access = transparency.access(record)
            yield {
                "id": access.id,
                "occurred_at": access.occurred_at,
                "staff": access.staff,
                "roles": [role.code for role in access.roles],
                "role_labels": [str(role.label) for role in access.roles],
                "action": access.action,
                "action_label": str(access.action_label),
                "items": [item.code for item in access.items],
                "item_labels": [str(item.label) for item in access.items],
                "reason": str(access.reason),
                "refused": access.refused,
            }

    # -- index.html -------------------------------------------------------------------------------
    def index_html(self, out: _Out, spool: _Spool) -> None:
        nonce = secrets.token_hex(8)
        shown = [s for s in self.sections if self.counts.get(s.label)]
        context = {
            "language": translation.get_language(),
            "generated_at": timezone.localtime(self.generated_at),
            "time_zone": settings.TIME_ZONE,
            "reference": self.request.reference,
            "member": self.member,
            "contexts": self.contexts(shown, nonce),
            "access_count": self.access_count,
            "access_marker": _marker(nonce, "staff_access_log"),
            "disclosures": self.disclosures,
            "style": INDEX_STYLE,
        }
        page = render_to_string("privacy/rights/export_index.html", context)
        pieces = re.split(f"<!--rows-{nonce}-([a-z0-9_-]+)-->", page)
        out.write(pieces[0])
        for key, text in zip(pieces[1::2], pieces[2::2], strict=True):
            out.flush()
            for block in spool.read(key):
                out.handle.write(block)
            out.write(text)
        out.flush()
        self.progress(95)

    def contexts(self, shown: list[Section], nonce: str) -> list[dict]:
        groups = []
        for context in Context:
            sections = [s for s in shown if s.declaration.context == context]
            if not sections:
                continue
            groups.append(
                {
                    "code": context.value,
                    "label": context.label,
                    "sections": [self.section_context(s, nonce) for s in sections],
                }
            )
        return groups

    def section_context(self, section: Section, nonce: str) -> dict:
        declaration = section.declaration
        entries = [*declaration.fields.values(), *([declaration.record] if declaration.record else [])]
        purposes = dict.fromkeys(purpose for entry in entries for purpose in entry.purposes)
        rules = dict.fromkeys(rule for entry in entries for rule in entry.rules)
        headers = [c.label for c in section.columns]
        headers += [extra_field(section.model, path).verbose_name for _name, path in section.extras]
        return {
            "key": section.key,
            "label": section.label,
            "name": section.name,
            "count": self.counts[section.label],
            "items": [item.label for item in items_of(declaration)],
            "purposes": [purpose.label for purpose in purposes],
            "retention": [rule.label for rule in rules],
            "headers": headers,
            "marker": _marker(nonce, section.key),
        }

    # -- attachments -------------------------------------------------------------------------------
    def attachments(self, archive: zipfile.ZipFile) -> None:
        for section in self.sections:
            at = next((i for i, c in enumerate(section.columns) if c.kind == "file"), None)
            if at is None or not self.counts.get(section.label):
                continue
            for values, _frozen in self.reader.rows(section, files=True):
                if values[at] is None:  # under correction
                    continue
                path, content = values[at]
                if content is None or isinstance(content, str):  # erased with its key
                    continue
                with archive.open(path, "w", force_zip64=True) as handle:
                    handle.write(bytes(content))


def _marker(nonce: str, key: str) -> str:
    return f"<!--rows-{nonce}-{key}-->"


def items_of(declaration: ModelDeclaration) -> list:
    items = [entry.item for entry in declaration.fields.values() if entry.protection != Protection.ONE_WAY]
    items += list(declaration.record_items)
    return list(dict.fromkeys(items))


def _html_cell_for_datetime() -> Callable:
    zone = timezone.get_current_timezone()

    def cell(value) -> str:
        if value is None:
            return ""
        return value.astimezone(zone).isoformat(" ", "seconds")[:19]  # strftime takes twice as long

    return cell


def _html_cell(column: Column | None, member) -> Callable:
    """How a value of ``column`` reads in index.html (already escaped)."""
    if column is None:
        return lambda value: "" if value is None else html.escape(str(value))
    model_field = column.field
    if column.kind == "file":
        return lambda value: (
            "" if value is None else f'<a href="{html.escape(quote(value))}">{html.escape(value)}</a>'
        )
    if column.kind == "person":
        you, own = html.escape(pgettext("export", "you")), member.pk

        def person(value) -> str:
            if value is None:
                return ""
            if value == own:
                return you
            return html.escape(gettext("Staff %(pseudonym)s") % {"pseudonym": value})

        return person
    if isinstance(model_field, models.DateTimeField):
        return _html_cell_for_datetime()
    if isinstance(model_field, models.BooleanField):
        yes, no = html.escape(gettext("Yes")), html.escape(gettext("No"))
        return lambda value: "" if value is None else (yes if value else no)
    if model_field.choices and not isinstance(model_field, EncryptedMixin):
        labels = {key: html.escape(str(label)) for key, label in model_field.flatchoices}
        return lambda value: "" if value is None else labels.get(value, html.escape(str(value)))
    if isinstance(model_field, models.JSONField) or getattr(model_field, "plain_text", True) is False:
        return lambda value: (
            "" if value is None else html.escape(_dumps(value) if not isinstance(value, str) else value)
        )
    if model_field.name.endswith("_yen"):
        return lambda value: "" if value is None else f"{value:,}"
    if isinstance(model_field, models.DateField):
        return lambda value: "" if value is None else value.isoformat()
    target = model_field.target_field if model_field.is_relation else model_field
    if isinstance(target, (*_INTEGERS, models.UUIDField)):
        return lambda value: "" if value is None else str(value)  # digits, hex and dashes
    return lambda value: "" if value is None else html.escape(str(value))


def file_name(moment: datetime) -> str:
    return f"kirakira-my-data-{timezone.localtime(moment):%Y%m%d}.zip"


def _language(member) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    return member.language if member.language in codes else settings.LANGUAGE_CODE


def build(request_id) -> None:
    """Build the export of a received request and tell the member it is ready. A request
    already answered (the task run twice) is left alone; on a failure the partial file is
    deleted and the error raised for the task framework to record."""
    from . import export_schema

    request = RightsRequest.objects.select_related("member").filter(pk=request_id).first()
    if request is None or request.kind != Kind.EXPORT or request.status not in OPEN:
        return
    member = request.member
    progress = _Progress(request.pk)
    progress(0)
    writer = export_files.EncryptedWriter(request, export_files.path_of(request))
    try:
        with translation.override(_language(member)):
            generated_at = clock.now()
            job = _Build(
                request, member, plan(), Reader(member, open_corrections(member)), progress, generated_at
            )
            with (
                _Spool() as spool,
                zipfile.ZipFile(writer, "w", zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as archive,
            ):
                with archive.open("data.json", "w", force_zip64=True) as handle:
                    job.data_json(_Out(handle), spool)
                with archive.open("schema.json", "w", force_zip64=True) as handle:
                    handle.write(
                        json.dumps(export_schema.schema(job.sections), ensure_ascii=False, indent=1).encode()
                    )
                with archive.open("index.html", "w", force_zip64=True) as handle:
                    job.index_html(_Out(handle), spool)
                job.attachments(archive)
        size = writer.close()
    except BaseException:
        writer.abort()
        services.export_failed(request.pk)
        raise
    services.export_ready(request.pk, file_name=file_name(generated_at), file_size=size)
    logger.info("export built: request %s", request.pk)
