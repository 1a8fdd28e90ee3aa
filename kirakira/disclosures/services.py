"""Recording a provision required by law, producing what is handed over, and telling the
recipient of a later correction."""

import hashlib
import json
import secrets
from datetime import date
from functools import partial

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kirakira.accounts.normalization import normalize_login_id
from kirakira.common import clock
from kirakira.common.text import clean_text
from kirakira.common.validation import collect
from kirakira.privacy.catalog import Item

from . import selectors
from .models import CorrectionNotice, CorrectionNoticeSent, DisclosedData, Disclosure

REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def required_text(value, *, required: str, maximum: int, multiline: bool = False) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(required, code="required")
    value = clean_text(value, multiline=multiline)
    if len(value) > maximum:
        raise ValidationError(_("At most %(max)d characters.") % {"max": maximum}, code="max_length")
    return value


def members_by_login_id(login_ids) -> list:
    wanted = [normalize_login_id(x) for x in login_ids if str(x).strip()]
    if not wanted:
        raise ValidationError(_("Name at least one member whose data is provided."), code="required")
    found = {u.login_id: u for u in get_user_model().objects.filter(login_id__in=wanted, is_staff=False)}
    missing = [login_id for login_id in wanted if login_id not in found]
    if missing:
        raise ValidationError(
            _("No member has these login IDs: %(ids)s") % {"ids": ", ".join(missing)}, code="unknown"
        )
    # In login-ID order, so that the file made again from the register has the same bytes.
    return sorted({found[login_id] for login_id in wanted}, key=lambda member: member.login_id)


def _items(items) -> list[str]:
    chosen = [str(item) for item in items or ()]
    if not chosen:
        raise ValidationError(_("Choose the items provided."), code="required")
    allowed = set(selectors.providable_items())
    unknown = [item for item in chosen if item not in allowed]
    if unknown:
        raise ValidationError(_("These items cannot be provided: %(items)s") % {"items": ", ".join(unknown)})
    return list(dict.fromkeys(chosen))


def disclosure_record(
    *,
    actor,
    recipient,
    legal_basis,
    request_reference="",
    requested_on: date | None,
    login_ids,
    items,
    withheld_until: date | None = None,
    withholding_basis: str = "",
) -> tuple[Disclosure, bytes]:
    """Record an authority's request and what is provided for it: the members' values of the
    chosen items, exactly as handed over (returned as the file to hand over, JSON).

    Raises ``ValidationError`` with every field's error at once; nothing is stored then.
    """
    if not actor.has_perm("disclosures.record_disclosure"):
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    today = timezone.localdate(clock.now())
    recipient = collect(
        errors, "recipient", partial(required_text, required=_("Name the recipient."), maximum=200), recipient
    )
    legal_basis = collect(
        errors,
        "legal_basis",
        partial(
            required_text, required=_("Give the law under which the data is provided."), maximum=1000, multiline=True
        ),
        legal_basis,
    )
    request_reference = collect(
        errors, "request_reference", partial(clean_text, multiline=False), (request_reference or "").strip()
    )
    if request_reference and len(request_reference) > 100:
        errors["request_reference"] = [_("At most %(max)d characters.") % {"max": 100}]
    if requested_on is None:
        errors["requested_on"] = [_("Give the date of the request.")]
    elif requested_on > today:
        errors["requested_on"] = [_("The request cannot be dated in the future.")]
    members = collect(errors, "login_ids", members_by_login_id, login_ids)
    items = collect(errors, "items", _items, items)
    if withheld_until is not None or (withholding_basis or "").strip():
        if withheld_until is None or withheld_until <= today:
            errors["withheld_until"] = [
                _("Give the date until which the members may not be told, after today.")
            ]
        withholding_basis = collect(
            errors,
            "withholding_basis",
            partial(
                required_text,
                required=_("Give the law that forbids telling the members."),
                maximum=1000,
                multiline=True,
            ),
            withholding_basis,
        )
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        provided = {member.pk: selectors.values_of(member, items) for member in members}
        reference = "D" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(9))
        content = _file(
            reference, recipient, legal_basis, request_reference, requested_on, items, members, provided
        )
        disclosure = Disclosure.objects.create(
            reference=reference,
            recipient=recipient,
            legal_basis=legal_basis,
            request_reference=request_reference,
            requested_on=requested_on,
            items=items,
            withheld_until=withheld_until,
            withholding_basis=withholding_basis or "",
            file_digest=hashlib.sha256(content).hexdigest(),
            recorded_by=actor,
        )
        for member in members:
            DisclosedData.objects.create(
                disclosure=disclosure,
                member=member,
                values=provided[member.pk],
                withheld_until=withheld_until,
            )
    return disclosure, content


def _file(
    reference, recipient, legal_basis, request_reference, requested_on, items, members, provided
) -> bytes:
    document = {
        "reference": reference,
        "recipient": recipient,
        "legal_basis": legal_basis,
        "request_reference": request_reference,
        "requested_on": requested_on.isoformat(),
        "items": [{"code": item, "label": str(Item(item).label)} for item in items],
        "members": [{"login_id": member.login_id, "values": provided[member.pk]} for member in members],
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode()


def disclosure_file(disclosure: Disclosure) -> bytes:
    """The file handed over, made again from what the register holds: the same bytes."""
    rows = sorted(
        DisclosedData.objects.filter(disclosure=disclosure).select_related("member"),
        key=lambda row: row.member.login_id,
    )
    return _file(
        disclosure.reference,
        disclosure.recipient,
        disclosure.legal_basis,
        disclosure.request_reference,
        disclosure.requested_on,
        disclosure.items,
        [row.member for row in rows],
        {row.member.pk: row.values for row in rows},
    )


def corrections_after(request) -> list[CorrectionNotice]:
    """A correction request was carried out: each provision that handed over the corrected
    value gets a notice to its recipient (policy C7: "we will promptly notify the third party")."""
    made = []
    for data in DisclosedData.objects.filter(member_id=request.member_id):
        for value in data.values:
            if (value["record"], value["id"], value["field"]) == (
                request.target,
                request.target_id,
                request.target_field,
            ):
                made.append(
                    CorrectionNotice.objects.create(
                        data=data,
                        member_id=request.member_id,
                        request=request,
                        record=request.target,
                        record_id=request.target_id,
                        field=request.target_field,
                        corrected_value=selectors.current_value(
                            request.target, request.target_id, request.target_field
                        ),
                    )
                )
    return made


def correction_notice_sent(*, notice: CorrectionNotice, actor) -> CorrectionNoticeSent:
    if not actor.has_perm("disclosures.record_disclosure"):
        raise PermissionDenied
    if CorrectionNoticeSent.objects.filter(notice=notice).exists():
        raise ValidationError(_("This notice is already recorded as sent."), code="sent")
    return CorrectionNoticeSent.objects.create(notice=notice, sent_by=actor)
