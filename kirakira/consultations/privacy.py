"""Consultations (policy: consultation — name, email, phone, consultation contents).

Complaints and disputes are kept 5 years after closing (the Electronic Commerce Act's rule for
complaint and dispute records); questions, proposals and personal-information matters follow
"until the purpose is met", made concrete as one year after closing (see the rule's basis).
Which staff see a consultation at all depends on its category (``routing.py``); the roles
below say what those who see it see of each field.
"""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kirakira.privacy import retention
from kirakira.privacy.catalog import (
    Context,
    Item,
    Mask,
    Protection,
    Purpose,
    Retention,
    Role,
    catalog,
    not_personal,
    personal,
)

PURPOSES = [Purpose.CONSULTATION_IDENTITY, Purpose.CONSULTATION_HANDLING]
HANDLERS = [Role.CUSTOMER_SERVICE, Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF]


def _retention(category_field: str) -> dict:
    return {
        "retention": Retention.CONSULTATION_ANSWERED_1Y,
        "retention_by": (category_field, {"complaint": Retention.COMPLAINT_RECORD_5Y}),
    }


def _text(field, item, category_field="category", **kwargs):
    return personal(
        field,
        item,
        purposes=PURPOSES,
        protection=Protection.ENCRYPTED,
        **{"full": HANDLERS, **kwargs},
        **_retention(category_field),
    )


catalog.register(
    "consultations.Consultation",
    context=Context.CONSULTATION,
    subject="data_subject_id",
    fields=[
        _text("subject", Item.CONSULTATION_TEXT),
        _text("visitor_name", Item.NAME),
        # Replies are mailed by the system; customer service needs only to tell visitors apart.
        _text(
            "visitor_email",
            Item.EMAIL,
            full=[Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
            masked=[Role.CUSTOMER_SERVICE],
            mask=Mask.EMAIL,
        ),
        personal(
            "visitor_email_index",
            Item.EMAIL,
            purposes=PURPOSES,
            protection=Protection.ONE_WAY,
            **_retention("category"),
        ),
        _text("callback_phone", Item.PHONE),
    ],
    not_personal=not_personal(
        "id",
        "reference",
        "data_subject_id",
        "member",
        "language",
        "category",
        "order",
        "status",
        "created_at",
        "confirmed_at",
        "updated_at",
        "closed_at",
        "channel",
        "received_at",
        "registered_by",
        "handler",
        reason="the consultation's identity, routing and state; personal only through the member or "
        "the visitor, and kept with the consultation",
    ),
)

catalog.register(
    "consultations.Message",
    context=Context.CONSULTATION,
    subject="data_subject_id",
    fields=[_text("body", Item.CONSULTATION_TEXT, category_field="consultation.category")],
    not_personal=not_personal(
        "id",
        "consultation",
        "data_subject_id",
        "author_kind",
        "author",
        "is_internal",
        "created_at",
        reason="the thread's structure; kept with the consultation",
    ),
)

catalog.register(
    "consultations.Attachment",
    context=Context.CONSULTATION,
    subject="data_subject_id",
    fields=[
        _text("filename", Item.CONSULTATION_TEXT, category_field="message.consultation.category"),
        _text("content", Item.CONSULTATION_TEXT, category_field="message.consultation.category"),
    ],
    not_personal=not_personal(
        "id",
        "message",
        "data_subject_id",
        "content_type",
        "size",
        "scan",
        "created_at",
        reason="the file's type, size and scan result; kept with the consultation",
    ),
)

# --- Retention (kirakira/privacy/retention) ----------------------------------------------------
# Closing a consultation meets its purpose and starts its clock (staff, the member, or the
# sweep when an answered one is left idle); a visitor who never confirms their email address
# leaves nothing behind. A visitor's data key goes with their last consultation.


def _consultations_delete(ids):
    from .retention import consultations_delete

    return consultations_delete(ids)


def _confirmation_timeout():
    from datetime import timedelta

    from django.conf import settings

    return timedelta(seconds=settings.CONSULTATION_CONFIRMATION_TIMEOUT)


_CLOSED = _("the consultation is closed (by staff, by the member, or when left idle after an answer)")
retention.register(
    "consultations.Consultation",
    rule=Retention.CONSULTATION_ANSWERED_1Y,
    event=_CLOSED,
    start="closed_at",
    where=Q(status="closed") & ~Q(category="complaint"),
    delete=_consultations_delete,
    subject="data_subject_id",
)
retention.register(
    "consultations.Consultation",
    rule=Retention.COMPLAINT_RECORD_5Y,
    event=_("the complaint is closed"),
    start="closed_at",
    where=Q(status="closed", category="complaint"),
    delete=_consultations_delete,
    subject="data_subject_id",
)
retention.register(
    "consultations.Consultation",
    rule=Retention.UNTIL_PURPOSE_MET,
    event=_("the visitor does not confirm their email address in time"),
    start="created_at",
    after=_confirmation_timeout,
    where=Q(status="awaiting_confirmation", member__isnull=True),
    delete=_consultations_delete,
    subject="data_subject_id",
)
for _label in ("consultations.Message", "consultations.Attachment"):
    for _rule in (Retention.CONSULTATION_ANSWERED_1Y, Retention.COMPLAINT_RECORD_5Y):
        retention.register(
            _label,
            rule=_rule,
            event=_CLOSED,
            with_parent=f"consultations.Consultation:{_rule.code}",
        )
