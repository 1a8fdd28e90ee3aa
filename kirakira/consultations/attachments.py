"""Checking uploaded files: count, size, and type by content (magic bytes), then the virus scan.

The type is read from the file's first bytes (``filetype``), never trusted from its name or
the browser's Content-Type; a name whose extension says something else is refused, so that a
file saved by staff opens as what it really is.
"""

from dataclasses import dataclass
from email import policy as email_policy
from email.parser import BytesParser

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import scanner
from .models import ScanResult

MAX_FILES = 5
MAX_BYTES = settings.UPLOAD_FILE_MAX_BYTES
FILENAME_MAX = 255
# Detected MIME type -> the extensions a file of that type may have.
ALLOWED = {
    "image/jpeg": {"jpg", "jpeg"},
    "image/png": {"png"},
    "image/gif": {"gif"},
    "image/webp": {"webp"},
    "image/heic": {"heic"},
    "application/pdf": {"pdf"},
}


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    data: bytes
    scan: str


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _clean_name(name: str) -> str:
    # Keep only the last path component, without control characters, within the column's size.
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    if len(name) > FILENAME_MAX:
        stem, dot, extension = name.rpartition(".")
        name = (stem[: FILENAME_MAX - len(extension) - 1] + dot + extension) if dot else name[:FILENAME_MAX]
    return name or "file"


def check_files(files) -> list[CheckedFile]:
    """Read and check uploaded files (Django ``UploadedFile``s): count, size, type. Raises
    ``ValidationError`` listing every problem. Scanning is a separate step (``scan_files``), so
    that a request refused for other reasons costs no scan."""
    files = list(files)
    if len(files) > MAX_FILES:
        raise ValidationError(
            ngettext(
                "You can attach at most %(max)d file.", "You can attach at most %(max)d files.", MAX_FILES
            )
            % {"max": MAX_FILES},
            code="too_many",
        )
    errors, checked = [], []
    for upload in files:
        name = _clean_name(upload.name or "")
        if upload.size > MAX_BYTES:
            errors.append(
                ValidationError(
                    _("“%(name)s” is larger than %(max)d MB.")
                    % {"name": name, "max": MAX_BYTES // (1024 * 1024)},
                    code="too_large",
                )
            )
            continue
        data = upload.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:  # a size that lied
            errors.append(
                ValidationError(
                    _("“%(name)s” is larger than %(max)d MB.")
                    % {"name": name, "max": MAX_BYTES // (1024 * 1024)},
                    code="too_large",
                )
            )
            continue
        kind = filetype.guess(data)
        mime = kind.mime if kind is not None else ""
        if mime not in ALLOWED:
            errors.append(
                ValidationError(
                    _("“%(name)s” is not an image (JPEG, PNG, GIF, WebP, HEIC) or a PDF file.")
                    % {"name": name},
                    code="bad_type",
                )
            )
            continue
        if _extension(name) not in ALLOWED[mime]:
            errors.append(
                ValidationError(
                    _("The content of “%(name)s” does not match its name: it is a %(kind)s file.")
                    % {"name": name, "kind": kind.extension.upper()},
                    code="name_mismatch",
                )
            )
            continue
        checked.append(CheckedFile(filename=name, content_type=mime, data=data, scan=ScanResult.NOT_SCANNED))
    if errors:
        raise ValidationError(errors)
    return checked


def scan_files(files: list[CheckedFile]) -> list[CheckedFile]:
    """Each file scanned when a scanner is configured; ``ValidationError`` if one is infected
    or the scanner cannot be reached (nothing unscanned is stored then)."""
    return [_scanned(f) for f in files]


def _scanned(file: CheckedFile) -> CheckedFile:
    if not scanner.is_configured():
        return file
    try:
        verdict = scanner.scan(file.data)
    except scanner.ScannerUnavailable:
        # Fail closed: with a scanner configured, nothing unscanned is stored.
        raise ValidationError(
            _(
                "Files cannot be checked for viruses right now. Please try again later, or send your message without them."
            ),
            code="scanner_unavailable",
        ) from None
    if not verdict.clean:
        raise ValidationError(
            _("“%(name)s” contains a virus and was refused.") % {"name": file.filename}, code="infected"
        )
    return CheckedFile(file.filename, file.content_type, file.data, ScanResult.CLEAN)


# An original email kept with a consultation registered from the email channel: read as an RFC
# 5322 message (the standard library's parser; ``filetype`` knows no text formats), then
# scanned and stored encrypted like any attachment.
EMAIL_TYPE = "message/rfc822"


def check_original_email(upload) -> CheckedFile:
    name = _clean_name(upload.name or "")
    data = upload.read(MAX_BYTES + 1)
    if upload.size > MAX_BYTES or len(data) > MAX_BYTES:
        raise ValidationError(
            _("“%(name)s” is larger than %(max)d MB.") % {"name": name, "max": MAX_BYTES // (1024 * 1024)},
            code="too_large",
        )
    message = BytesParser(policy=email_policy.default).parsebytes(data, headersonly=True)
    if _extension(name) != "eml" or not (message["From"] and message["Date"]):
        raise ValidationError(
            _("“%(name)s” is not an email saved as a .eml file (with its From and Date headers).") % {"name": name},
            code="bad_type",
        )
    return CheckedFile(filename=name, content_type=EMAIL_TYPE, data=data, scan=ScanResult.NOT_SCANNED)
