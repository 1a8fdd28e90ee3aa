"""Writes on consultations: opening one (member or visitor), the thread, and its states.

Pages and the API call these; every change of state takes a row lock on the consultation, so
a member's reopen and a staff member's reply cannot interleave.
"""

import unicodedata
import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kirakira.common import clock
from kirakira.common.client_ip import rate_limit_key
from kirakira.common.ratelimit import hit, over_limit
from kirakira.common.text import clean_text
from kirakira.common.validation import collect
from kirakira.orders.normalization import clean_phone
from kirakira.privacy.crypto import datakeys
from kirakira.privacy.crypto.fields import PlainBytes

from . import attachments as attachment_checks
from . import tasks
from .models import (
    BODY_MAX,
    SUBJECT_MAX,
    Attachment,
    AuthorKind,
    Category,
    Channel,
    Consultation,
    Message,
    Status,
    new_reference,
)
from .routing import categories_for, may_see

NAME_MAX = 100
EMAIL_MAX = 254


def _text(value, *, required_message, too_long_message, maximum, multiline=False) -> str:
    if not isinstance(value, str):
        raise ValidationError(_("This must be text."), code="invalid")
    value = value.strip()
    if not value:
        raise ValidationError(required_message, code="required")
    # Line breaks become "\n" (browsers send CRLF), so each counts as one character, as the
    # writer sees it; invisible and control characters are refused (see common/text.py).
    value = clean_text(value, multiline=multiline)
    if len(value) > maximum:
        raise ValidationError(too_long_message % {"max": maximum}, code="max_length")
    return value


def clean_subject(value) -> str:
    return _text(
        value,
        required_message=_("Enter a subject."),
        too_long_message=_("The subject is at most %(max)d characters long."),
        maximum=SUBJECT_MAX,
    )


def clean_body(value) -> str:
    return _text(
        value,
        required_message=_("Write your message."),
        too_long_message=_("A message is at most %(max)d characters long."),
        maximum=BODY_MAX,
        multiline=True,
    )


def _clean_category(value) -> str:
    if value not in Category.values:
        raise ValidationError(_("Choose a category."), code="invalid_choice")
    return value


def _clean_phone(value) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        raise ValidationError(_("This must be text."), code="invalid")
    return clean_phone(value)


def _clean_order(member, order):
    """``order`` is an Order, its ID, or None; only one of the member's own orders is allowed."""
    from kirakira.orders.models import Order

    if order in (None, ""):
        return None
    order_id = order.pk if isinstance(order, Order) else order
    try:
        order_id = uuid.UUID(str(order_id))
    except ValueError:
        order_id = None
    found = Order.objects.filter(pk=order_id, member=member).first() if member and order_id else None
    if found is None:
        raise ValidationError(_("Choose one of your own orders."), code="invalid_choice")
    return found


# --- visitor rate limits ----------------------------------------------------------------------
def check_visitor_limits(*, ip: str | None, email: str) -> None:
    """Raise ``ValidationError(code="rate_limited")`` when this address or this email address
    has opened too many consultations in the last hour. Counts the attempt."""
    by_ip = bool(ip) and over_limit(
        "consultation-ip", rate_limit_key(ip), limit=settings.CONSULTATION_VISITOR_LIMIT_PER_IP
    )
    by_email = bool(email) and over_limit(
        "consultation-email", email.strip().lower(), limit=settings.CONSULTATION_VISITOR_LIMIT_PER_EMAIL
    )
    if by_email:
        raise ValidationError(
            _(
                "Too many consultations were sent for this email address. Please try again in an hour, or log in."
            ),
            code="rate_limited",
        )
    if by_ip:
        raise ValidationError(
            _("Too many consultations were sent from your network. Please try again in an hour, or log in."),
            code="rate_limited",
        )


def check_member_limit(*, member) -> None:
    """Raise ``ValidationError(code="rate_limited")``, with the seconds to wait as
    ``params["retry_after"]``, when ``member`` has opened ``CONSULTATION_MEMBER_LIMIT_PER_HOUR``
    consultations in the last hour (pages and API alike). Counts the attempt when it may go
    ahead; a refused one does not push the wait further."""
    wait = hit(
        "consultation-member",
        str(member.pk),
        limit=settings.CONSULTATION_MEMBER_LIMIT_PER_HOUR,
        count_refused=False,
    )
    if wait:
        raise ValidationError(
            _(
                "You have opened many consultations in the last hour. Please write in one you "
                "have already opened, or try again later."
            ),
            code="rate_limited",
            params={"retry_after": wait},
        )


# --- opening --------------------------------------------------------------------------------
def _add_message(consultation, *, author_kind, author, body, files=(), is_internal=False) -> Message:
    try:
        return _write_message(consultation, author_kind, author, body, files, is_internal)
    except datakeys.DestroyedKey:
        # The data subject's key was destroyed (final disposal): nothing can be added any more.
        raise ValidationError(
            _(
                "The personal data of this consultation has been disposed of; nothing more can be added to it."
            ),
            code="disposed",
        ) from None


def _write_message(consultation, author_kind, author, body, files, is_internal) -> Message:
    message = Message.objects.create(
        consultation=consultation,
        data_subject_id=consultation.data_subject_id,
        author_kind=author_kind,
        author=author,
        body=body,
        is_internal=is_internal,
    )
    for file in files:
        Attachment.objects.create(
            message=message,
            data_subject_id=consultation.data_subject_id,
            filename=file.filename,
            content_type=file.content_type,
            size=len(file.data),
            content=PlainBytes(file.data),
            scan=file.scan,
        )
    return message


def consultation_open(
    *,
    member=None,
    visitor_name: str = "",
    visitor_email: str = "",
    category,
    subject,
    body,
    order=None,
    callback_phone="",
    files=(),
    language: str = "ja",
    ip: str | None = None,
) -> Consultation:
    """Open a consultation. A member's is open at once; a visitor's waits until they confirm
    their email address by the link mailed to them (staff do not see it before).

    Raises ``ValidationError`` with field errors (``attachments`` for files); on any error
    nothing is stored.
    """
    errors: dict[str, list[str]] = {}
    if member is None:
        visitor_name = collect(errors, "name", _clean_name, visitor_name)
        visitor_email = collect(errors, "email", _clean_email, visitor_email)
    category = collect(errors, "category", _clean_category, category)
    subject = collect(errors, "subject", clean_subject, subject)
    body = collect(errors, "body", clean_body, body)
    order = collect(errors, "order", _clean_order, member, order) if member or order else None
    callback_phone = collect(errors, "callback_phone", _clean_phone, callback_phone)
    checked = collect(errors, "attachments", attachment_checks.check_files, files)
    if errors:
        raise ValidationError(errors)
    if member is None:
        check_visitor_limits(ip=ip, email=visitor_email)
    else:
        check_member_limit(member=member)
    checked = _scanned(checked)  # last: a refused request costs no scan

    now = clock.now()
    with transaction.atomic():
        consultation = Consultation(
            data_subject_id=member.pk if member else uuid.uuid4(),
            member=member,
            visitor_name=visitor_name or "",
            visitor_email=visitor_email or "",
            language=(language or "ja")[:8],
            category=category,
            subject=subject,
            order=order,
            callback_phone=callback_phone,
            status=Status.OPEN if member else Status.AWAITING_CONFIRMATION,
            created_at=now,
            updated_at=now,
        )
        _insert_with_fresh_reference(consultation)
        _add_message(
            consultation,
            author_kind=AuthorKind.MEMBER if member else AuthorKind.VISITOR,
            author=member,
            body=body,
            files=checked,
        )
        if member is None:
            tasks.enqueue_email(consultation, "confirm_visitor")
    return consultation


def consultation_register_from_channel(
    *,
    actor,
    channel: str,
    category,
    subject,
    body,
    received_at=None,
    member=None,
    visitor_name: str = "",
    visitor_email: str = "",
    callback_phone="",
    order=None,
    original_email=None,
    language: str = "ja",
) -> Consultation:
    """Register a consultation that reached the studio by email or phone (policy C3): staff enter
    it as received, and from then on it is like any other. It is routed by its category, a
    member sees it in their list, a visitor with an email address gets the private link to its
    thread, and the original email, when given, is kept with it, scanned and encrypted like any
    attachment. The member of staff must be one the category is routed to.

    Raises ``ValidationError`` with field errors (every one at once); nothing is stored then.
    """
    if not actor.is_staff or not actor.has_perm("consultations.reply_consultation"):
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    if channel not in (Channel.EMAIL, Channel.PHONE):
        errors["channel"] = [_("Choose how the consultation arrived: by email or by phone.")]
    category = collect(errors, "category", _clean_category, category)
    if category and category not in categories_for(actor):
        errors["category"] = [
            _("Consultations of this category are not routed to you: ask a colleague who handles them.")
        ]
    if member is not None and (member.is_staff or not member.is_active):
        errors["member"] = [_("Choose an active member.")]
    if member is None:
        visitor_name = collect(errors, "visitor_name", _clean_name, visitor_name)
        if visitor_email:
            visitor_email = collect(errors, "visitor_email", _clean_email, visitor_email)
        if not visitor_email and not callback_phone and "visitor_name" not in errors:
            errors["visitor_email"] = [
                _("Give the visitor's email address or phone number, so that they can be answered.")
            ]
    subject = collect(errors, "subject", clean_subject, subject)
    body = collect(errors, "body", clean_body, body)
    order = collect(errors, "order", _clean_order, member, order) if member or order else None
    callback_phone = collect(errors, "callback_phone", _clean_phone, callback_phone)
    now = clock.now()
    received_at = received_at or now
    if received_at > now:
        errors["received_at"] = [_("The time it arrived cannot be in the future.")]
    files = []
    if original_email is not None:
        if channel != Channel.EMAIL:
            errors["original_email"] = [_("Only a consultation that arrived by email has an original email.")]
        else:
            files = collect(
                errors,
                "original_email",
                lambda f: [attachment_checks.check_original_email(f)],
                original_email,
            )
    if errors:
        raise ValidationError(errors)
    try:
        files = attachment_checks.scan_files(files)
    except ValidationError as exc:
        raise ValidationError({"original_email": exc.error_list}) from None

    with transaction.atomic():
        consultation = Consultation(
            data_subject_id=member.pk if member else uuid.uuid4(),
            member=member,
            visitor_name=visitor_name or "",
            visitor_email=visitor_email or "",
            language=(member.language if member else language or "ja")[:8],
            category=category,
            subject=subject,
            order=order,
            callback_phone=callback_phone,
            # Staff took it in: nothing for a visitor to confirm.
            status=Status.OPEN,
            confirmed_at=None if member else now,
            created_at=now,
            updated_at=now,
            channel=channel,
            received_at=received_at,
            registered_by=actor,
        )
        _insert_with_fresh_reference(consultation)
        _add_message(
            consultation,
            author_kind=AuthorKind.MEMBER if member else AuthorKind.VISITOR,
            author=member,
            body=body,
            files=files,
        )
        if member is None and visitor_email:
            tasks.enqueue_email(consultation, "visitor_registered")
    return consultation


def _insert_with_fresh_reference(consultation) -> None:
    """Insert, drawing another reference in the (one in 10^13) case the drawn one is taken."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                consultation.save(force_insert=True)
            return
        except IntegrityError:
            if not Consultation.objects.filter(reference=consultation.reference).exists():
                raise
            consultation.reference = new_reference()
    raise ValidationError(_("The consultation could not be saved. Please try again."), code="reference")


def _clean_name(value) -> str:
    return _text(
        value,
        required_message=_("Enter your name."),
        too_long_message=_("The name is at most %(max)d characters long."),
        maximum=NAME_MAX,
    )


def _clean_email(value) -> str:
    from django.core.validators import validate_email

    if not isinstance(value, str):
        raise ValidationError(_("This must be text."), code="invalid")
    # Folded as registration folds it: an address typed in full-width characters is accepted.
    value = unicodedata.normalize("NFKC", value).strip()
    if not value:
        raise ValidationError(_("Enter your email address."), code="required")
    if len(value) > EMAIL_MAX:
        raise ValidationError(_("Enter a valid email address."), code="invalid")
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError(_("Enter a valid email address."), code="invalid") from None
    local, _at, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def visitor_confirm(consultation_id) -> Consultation:
    """Confirm a visitor's email address: the consultation opens for staff. A link used
    before raises ``ValidationError(code="used")``."""
    with transaction.atomic():
        consultation = Consultation.objects.select_for_update().filter(pk=consultation_id).first()
        if consultation is None or consultation.member_id is not None:
            raise ValidationError(_("This link is not valid."), code="invalid")
        if consultation.status != Status.AWAITING_CONFIRMATION:
            raise ValidationError(
                _("This link has already been used. Your consultation was received."), code="used"
            )
        now = clock.now()
        consultation.status = Status.OPEN
        consultation.confirmed_at = now
        consultation.updated_at = now
        consultation.save(update_fields=["status", "confirmed_at", "updated_at"])
        tasks.enqueue_email(consultation, "visitor_received")
    return consultation


def _scanned(checked):
    try:
        return attachment_checks.scan_files(checked)
    except ValidationError as exc:
        raise ValidationError({"attachments": exc.error_list}) from None


# --- the thread --------------------------------------------------------------------------------
def _locked(consultation_id) -> Consultation:
    consultation = Consultation.objects.select_for_update().filter(pk=consultation_id).first()
    if consultation is None:
        raise ValidationError(_("This consultation no longer exists."), code="not_found")
    return consultation


def _message_input(body, files):
    """A message's text and files, checked (and the files scanned) before any row is locked."""
    errors: dict[str, list[str]] = {}
    body = collect(errors, "body", clean_body, body)
    checked = collect(errors, "attachments", attachment_checks.check_files, files)
    if errors:
        raise ValidationError(errors)
    return body, _scanned(checked)


def requester_reply(*, consultation_id, body, files=(), member=None) -> Message:
    """A message from the member (``member``) or the visitor who opened the consultation.
    A closed consultation must be reopened first."""
    body, checked = _message_input(body, files)
    with transaction.atomic():
        consultation = _locked(consultation_id)
        if consultation.member_id != (member.pk if member else None):
            raise ValidationError(_("This consultation no longer exists."), code="not_found")
        if consultation.status == Status.CLOSED:
            raise ValidationError(_("This consultation is closed. Reopen it to write again."), code="closed")
        if consultation.status == Status.AWAITING_CONFIRMATION:
            raise ValidationError(_("Confirm your email address first."), code="unconfirmed")
        message = _add_message(
            consultation,
            author_kind=AuthorKind.MEMBER if member else AuthorKind.VISITOR,
            author=member,
            body=body,
            files=checked,
        )
        consultation.status = Status.OPEN
        consultation.updated_at = message.created_at
        consultation.save(update_fields=["status", "updated_at"])
    return message


def staff_reply(*, consultation_id, actor, body, files=(), internal: bool = False) -> Message:
    """A staff reply (emailed to the member or visitor; the consultation becomes "answered")
    or an internal note (never shown to them; the state is unchanged)."""
    if not actor.has_perm("consultations.reply_consultation"):
        raise PermissionDenied
    body, checked = _message_input(body, files)
    with transaction.atomic():
        consultation = _locked(consultation_id)
        if not may_see(actor, consultation) or consultation.status == Status.AWAITING_CONFIRMATION:
            raise ValidationError(_("This consultation no longer exists."), code="not_found")
        if consultation.status == Status.CLOSED and not internal:
            raise ValidationError(_("This consultation is closed."), code="closed")
        message = _add_message(
            consultation,
            author_kind=AuthorKind.STAFF,
            author=actor,
            body=body,
            files=checked,
            is_internal=internal,
        )
        if consultation.handler_id is None:  # the first staff member to act owns the work
            consultation.handler = actor
            consultation.save(update_fields=["handler"])
        if not internal:
            consultation.status = Status.ANSWERED
            consultation.updated_at = message.created_at
            consultation.save(update_fields=["status", "updated_at"])
            tasks.enqueue_email(consultation, f"reply:{message.pk}")
    return message


def consultation_take(*, consultation_id, actor) -> Consultation:
    """"Take it": ``actor`` becomes the consultation's handler (one routed to their roles and not
    closed). A leaver's work goes to a colleague by the handover (kirakira/accounts/offboarding.py)."""
    if not actor.is_active or not actor.has_perm("consultations.reply_consultation"):
        raise PermissionDenied
    with transaction.atomic():
        consultation = _locked(consultation_id)
        if not may_see(actor, consultation) or consultation.status == Status.AWAITING_CONFIRMATION:
            raise ValidationError(_("This consultation no longer exists."), code="not_found")
        if consultation.status == Status.CLOSED:
            raise ValidationError(_("This consultation is closed."), code="closed")
        if consultation.handler_id != actor.pk:
            consultation.handler = actor
            consultation.save(update_fields=["handler"])
    return consultation


def consultation_close(*, consultation_id, member=None, actor=None) -> Consultation:
    """Close a consultation: by its member (or visitor, with neither given) or by staff who
    handle it. Its retention period starts now."""
    with transaction.atomic():
        consultation = _locked(consultation_id)
        if actor is not None:
            if not may_see(actor, consultation) or not actor.has_perm("consultations.reply_consultation"):
                raise ValidationError(_("This consultation no longer exists."), code="not_found")
        elif consultation.member_id != (member.pk if member else None):
            raise ValidationError(_("This consultation no longer exists."), code="not_found")
        if consultation.status not in (Status.OPEN, Status.ANSWERED):
            raise ValidationError(_("This consultation cannot be closed now."), code="state")
        now = clock.now()
        consultation.status = Status.CLOSED
        consultation.closed_at = now
        consultation.updated_at = now
        consultation.save(update_fields=["status", "closed_at", "updated_at"])
    return consultation


def consultation_reopen(*, consultation_id, member=None) -> Consultation:
    """The member (or visitor) reopens a closed consultation within 30 days of its closing."""
    with transaction.atomic():
        consultation = _locked(consultation_id)
        if consultation.member_id != (member.pk if member else None):
            raise ValidationError(_("This consultation no longer exists."), code="not_found")
        if consultation.status != Status.CLOSED:
            raise ValidationError(_("This consultation is not closed."), code="state")
        if not consultation.can_reopen():
            raise ValidationError(
                _("A consultation can be reopened only within 30 days of closing. Please open a new one."),
                code="too_late",
            )
        consultation.status = Status.OPEN
        consultation.closed_at = None
        consultation.updated_at = clock.now()
        consultation.save(update_fields=["status", "closed_at", "updated_at"])
    return consultation


def close_idle(*, now=None) -> int:
    """Close consultations answered by staff and left without a word from the member or visitor
    for ``CONSULTATION_IDLE_CLOSE_DAYS``: the purpose is met, so the retention period starts
    (they can still reopen for 30 days). Returns how many were closed."""
    from datetime import timedelta

    now = now or clock.now()
    cutoff = now - timedelta(days=settings.CONSULTATION_IDLE_CLOSE_DAYS)
    count = 0
    idle = Consultation.objects.filter(status=Status.ANSWERED, updated_at__lt=cutoff)
    for consultation_id in idle.values_list("pk", flat=True):
        with transaction.atomic():
            consultation = _locked(consultation_id)
            if consultation.status != Status.ANSWERED or consultation.updated_at >= cutoff:
                continue  # answered again meanwhile
            consultation.status = Status.CLOSED
            consultation.closed_at = now
            consultation.updated_at = now
            consultation.save(update_fields=["status", "closed_at", "updated_at"])
            count += 1
    return count
