"""What the privacy core itself stores."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from . import retention
from .catalog import Context, Item, Protection, Purpose, Retention, Role, catalog, not_personal, personal

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
    "privacy.MasterKeyEvent",
    context=Context.SECURITY,
    not_personal=not_personal(
        "id",
        "master_key_id",
        "kind",
        "at",
        "data_keys",
        reason="when data keys were re-wrapped off a master key and when it was retired; IDs and counts only",
    ),
)

# The key rotation register (kirakira/privacy/keys): when keys turned and who started it.
catalog.register(
    "privacy.KeyRotation",
    context=Context.SECURITY,
    subject="started_by",
    fields=[
        personal(
            field_name,
            Item.STAFF_CHANGE_RECORD,
            purposes=[Purpose.ACCOUNTABILITY],
            retention=Retention.UNTIL_PURPOSE_MET,
            full=[Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
        )
        for field_name in ("started_by", "started_by_os_user")
    ],
    not_personal=not_personal(
        "id",
        "kind",
        "from_keys",
        "to_key",
        "state",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "rows_done",
        "rows_cleared",
        "per_key",
        "runs",
        "error",
        reason="which keys a rotation moved off and to, when, and how many values; key IDs and counts only",
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
    "privacy.KeyRotation",
    rule=Retention.UNTIL_PURPOSE_MET,
    event=_("never while the service runs: the register is the record of when keys were rotated"),
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


# --- Members' rights requests (kirakira/privacy/rights) ------------------------------------------
# A request is the member's contact through the site's menu (policy C7), handled like a
# consultation: what they said is wrong and right, and staff's answer. Kept one year after it is
# answered, for a follow-up or a dispute about the answer, then disposed of.
_RIGHTS_READERS = [Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF]
catalog.register(
    "privacy.RightsRequest",
    context=Context.CONSULTATION,
    subject="member",
    fields=[
        personal(
            field_name,
            Item.CONSULTATION_TEXT,
            purposes=[Purpose.CONSULTATION_IDENTITY, Purpose.CONSULTATION_HANDLING],
            retention=Retention.CONSULTATION_ANSWERED_1Y,
            protection=protection,
            full=_RIGHTS_READERS,
        )
        for field_name, protection in (
            ("wrong_value", Protection.ENCRYPTED),
            ("right_value", Protection.ENCRYPTED),
            ("answer", Protection.PLAIN),
            ("extension_reason", Protection.PLAIN),
            ("entries", Protection.PLAIN),
            ("kept", Protection.PLAIN),
            ("scope", Protection.PLAIN),
        )
    ],
    not_personal=not_personal(
        "id",
        "member",
        "kind",
        "status",
        "received_at",
        "due_at",
        "extended_at",
        "decided_at",
        "decided_by",
        "handler",
        "ground",
        "reminded_at",
        "target",
        "target_id",
        "target_field",
        "lifted_at",
        "progress",
        "file_name",
        "file_size",
        "expires_at",
        "downloads",
        "last_downloaded_at",
        reason="the request's kind, state, dates and the record it names: personal only through the member; "
        "an export's file holds a copy of the member's data, encrypted under their key, and is deleted "
        "when its link expires",
    ),
)
# The one-time code of the identity check: only its row (the code itself is derived from the
# row's random ID and never stored). Its purpose is met once it is spent or expired.
catalog.register_record(
    "privacy.IdentityCode",
    context=Context.SECURITY,
    subject="member",
    items=[Item.LOGIN_ATTEMPT],
    purposes=[Purpose.IDENTITY, Purpose.SECURITY],
    retention=Retention.UNTIL_PURPOSE_MET,
    automatic=True,
)


def _answered():
    # A stop of processing confirmed by staff stays in force (and kept) until the member lifts it.
    return (
        Q(decided_at__isnull=False)
        & ~Q(status__in=["received", "building"])
        & ~Q(kind="restriction", status="done")
    )


def _closed_at():
    from django.db.models.functions import Coalesce

    return {"closed_at": Coalesce("lifted_at", "decided_at")}


def _identity_code_life():
    from datetime import timedelta

    from django.conf import settings

    return timedelta(minutes=settings.IDENTITY_CODE_MINUTES) + timedelta(hours=1)


def _dispose_expired_exports(disposal, context):
    from .rights.export_files import dispose_expired

    dispose_expired(disposal, context)


retention.register(
    "privacy.RightsRequest",
    rule=Retention.CONSULTATION_ANSWERED_1Y,
    event=_("the request is answered (a stop of processing: it is lifted)"),
    start="closed_at",
    annotations=_closed_at,
    where=_answered,
    subject="member",
)
retention.register(
    "privacy.RightsRequest",
    rule=Retention.UNTIL_PURPOSE_MET,
    event=_("the download link expires (7 days after the file is ready): the file is deleted"),
    start="expires_at",
    custom=_dispose_expired_exports,
    subject="member",
    name="privacy.RightsRequest:export_files",
)
retention.register(
    "privacy.IdentityCode",
    rule=Retention.UNTIL_PURPOSE_MET,
    event=_("the code is spent or expires; kept an hour more for counting wrong tries"),
    start="created_at",
    after=_identity_code_life,
    subject="member",
)
