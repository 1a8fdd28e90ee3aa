"""What the privacy core itself stores."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from . import retention
from .catalog import Context, Item, Purpose, Retention, Role, catalog, not_personal, personal

catalog.register(
    "privacy.DataKey",
    context=Context.SECURITY,
    not_personal=not_personal(
        "id",
        "owner_id",
        "master_key_id",
        "wrapped_key",
        "created_at",
        "rotated_at",
        "destroyed_at",
        reason="a data subject's encryption key, stored wrapped; it protects personal data and holds none",
    ),
)

catalog.register(
    "privacy.PolicyVersion",
    context=Context.SECURITY,
    subject="published_by",
    fields=[
        personal(
            "published_by",
            Item.STAFF_CHANGE_RECORD,
            purposes=[Purpose.ACCOUNTABILITY],
            retention=Retention.UNTIL_PURPOSE_MET,
            full=[Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF, Role.ADMINISTRATOR],
        ),
    ],
    not_personal=not_personal(
        "id",
        "number",
        "effective_on",
        "is_correction",
        "reason_ja",
        "reason_en",
        "reason_ko",
        "summary_ja",
        "summary_en",
        "summary_ko",
        "snapshot_ja",
        "snapshot_en",
        "snapshot_ko",
        "cookies_digest",
        "published_at",
        reason="the published policy text and its announcement",
    ),
)

catalog.register_record(
    "privacy.PolicyAcknowledgement",
    context=Context.MEMBERSHIP,
    subject="member",
    items=[Item.USAGE_RECORD],
    purposes=[Purpose.NOTICES],
    retention=Retention.WITHDRAWN_MEMBER_5Y,
    full=[Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
    automatic=True,
)

catalog.register_record(
    "privacy.PermissionChange",
    context=Context.SECURITY,
    subject="subject",
    items=[Item.ACCESS_RIGHTS_RECORD, Item.IP_ADDRESS],
    purposes=[Purpose.ACCOUNTABILITY, Purpose.SECURITY],
    retention=Retention.PERMISSION_CHANGE_3Y,
    full=[Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
    automatic=True,
)

# The staff access log (policy C10): who on the staff saw, revealed, changed or downloaded whose
# data, or was refused it. A record of the staff member's work; the members it names are listed
# in StaffAccessSubject, which is how each member finds the accesses to their own data.
catalog.register_record(
    "privacy.StaffAccessRecord",
    context=Context.SECURITY,
    subject="staff",
    items=[Item.STAFF_ACCESS_RECORD, Item.IP_ADDRESS],
    purposes=[Purpose.ACCOUNTABILITY, Purpose.SECURITY],
    retention=Retention.STAFF_ACCESS_2Y,
    full=[Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
    automatic=True,
)
catalog.register_record(
    "privacy.StaffAccessSubject",
    context=Context.SECURITY,
    subject="subject_id",
    items=[Item.STAFF_ACCESS_RECORD],
    purposes=[Purpose.ACCOUNTABILITY],
    retention=Retention.STAFF_ACCESS_2Y,
    full=[Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
    automatic=True,
)
catalog.register(
    "privacy.AccessLogHead",
    context=Context.SECURITY,
    not_personal=not_personal(
        "id", "last_seq", "last_hash", "anchor_seq", "anchor_hash", reason="the access log chain's head and anchor"
    ),
)
# A month of the access log marked as reviewed: who reviewed it, when, and their note.
catalog.register_record(
    "privacy.AccessReview",
    context=Context.SECURITY,
    subject="reviewed_by",
    items=[Item.STAFF_ACCESS_RECORD],
    purposes=[Purpose.ACCOUNTABILITY],
    retention=Retention.STAFF_ACCESS_2Y,
    full=[Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
)


# Separate storage (kirakira/privacy/retention): a withdrawn member's records that a rule keeps,
# moved out of the live tables. Declared by the membership record it always holds (name, email
# address, login ID); copies of orders, payments and consultations it may hold keep the rule of
# their source (contract, payment and complaint records: five years).
catalog.register_record(
    "privacy.RetainedRecord",
    context=Context.MEMBERSHIP,
    subject="subject_id",
    items=[Item.NAME, Item.EMAIL, Item.LOGIN_ID],
    purposes=[Purpose.IDENTITY],
    retention=Retention.WITHDRAWN_MEMBER_5Y,
    full=[Role.PRIVACY_OFFICER],
)
catalog.register_record(
    "privacy.RegistrationMatch",
    context=Context.SECURITY,
    subject="user",
    items=[Item.USAGE_RECORD],
    purposes=[Purpose.IDENTITY],
    retention=Retention.WITHDRAWN_MEMBER_5Y,
    full=[Role.PRIVACY_OFFICER],
    automatic=True,
)
catalog.register_record(
    "privacy.LegalHold",
    context=Context.SECURITY,
    subject="subject_id",
    items=[Item.STAFF_CHANGE_RECORD],
    purposes=[Purpose.ACCOUNTABILITY],
    retention=Retention.STAFF_ACCESS_2Y,
    full=[Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
)
catalog.register(
    "privacy.DisposalRun",
    context=Context.SECURITY,
    subject="started_by",
    fields=[
        personal(
            "started_by",
            Item.STAFF_CHANGE_RECORD,
            purposes=[Purpose.ACCOUNTABILITY],
            retention=Retention.STAFF_ACCESS_2Y,
            full=[Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
        ),
    ],
    not_personal=not_personal(
        "id", "trigger", "started_at", "finished_at", "status", "error", reason="when and how a disposal ran"
    ),
)
catalog.register(
    "privacy.DisposalCount",
    context=Context.SECURITY,
    not_personal=not_personal(
        "id",
        "run",
        "rule",
        "model",
        "method",
        "count",
        "oldest",
        "newest",
        reason="counts of disposed records per rule and model, never the records",
    ),
)

def _record_permission_changes():
    # Connected here, where the privacy core's declarations are loaded at start-up, so that
    # every process (web, worker, management command) records changes of staff access.
    from django.contrib.auth import get_user_model

    from .audit import permissions

    permissions.connect(get_user_model())


_record_permission_changes()


# --- Retention (kirakira/privacy/retention) ----------------------------------------------------


def _dispose_access_log(disposal, context):
    from .access_log.chain import dispose_for_sweep

    dispose_for_sweep(disposal, context)


def _ended_holds():
    from kirakira.common import clock

    now = clock.now()
    return Q(released_at__isnull=False) | Q(ends_at__lte=now)


def _hold_end():
    from django.db.models.functions import Coalesce

    return {"hold_end": Coalesce("released_at", "ends_at")}


retention.register(
    "privacy.StaffAccessRecord",
    rule=Retention.STAFF_ACCESS_2Y,
    event=_("the access is made"),
    start="occurred_at",
    custom=_dispose_access_log,
)
retention.register(
    "privacy.StaffAccessSubject",
    rule=Retention.STAFF_ACCESS_2Y,
    event=_("the access is made"),
    with_parent="privacy.StaffAccessRecord:staff_access_2y",
)
retention.register(
    "privacy.AccessReview",
    rule=Retention.STAFF_ACCESS_2Y,
    event=_("the month is reviewed"),
    start="reviewed_at",
)
retention.register(
    "privacy.PermissionChange",
    rule=Retention.PERMISSION_CHANGE_3Y,
    event=_("the change is made"),
    start="occurred_at",
)
retention.register(
    "privacy.PolicyVersion",
    rule=Retention.UNTIL_PURPOSE_MET,
    event=_("never while the service runs: the published versions are the record of what members were told"),
    where=Q(pk__in=[]),
)
retention.register(
    "privacy.PolicyAcknowledgement",
    rule=Retention.WITHDRAWN_MEMBER_5Y,
    event=_("the member withdraws: moved to separate storage with the membership record"),
    with_parent="privacy.RetainedRecord:withdrawn_member_5y",
)
retention.register(
    "privacy.RetainedRecord",
    rule=Retention.WITHDRAWN_MEMBER_5Y,
    event=_("the member withdraws (an order's records: its contract ends; a consultation: it is closed)"),
    custom=retention.dispose_retained,
    start="clock_started_at",
    subject="subject_id",
)
retention.register(
    "privacy.RegistrationMatch",
    rule=Retention.WITHDRAWN_MEMBER_5Y,
    event=_("the withdrawn member's record it points to is disposed of"),
    with_parent="privacy.RetainedRecord:withdrawn_member_5y",
)
retention.register(
    "privacy.LegalHold",
    rule=Retention.STAFF_ACCESS_2Y,
    event=_("the hold ends or is released"),
    start="hold_end",
    annotations=_hold_end,
    where=_ended_holds,
)
retention.register(
    "privacy.DisposalRun",
    rule=Retention.STAFF_ACCESS_2Y,
    event=_("the run finishes"),
    start="started_at",
    where=Q(status__in=["finished", "interrupted", "failed"]),
)
