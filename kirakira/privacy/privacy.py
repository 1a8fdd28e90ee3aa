"""What the privacy core itself stores."""

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


def _record_permission_changes():
    # Connected here, where the privacy core's declarations are loaded at start-up, so that
    # every process (web, worker, management command) records changes of staff access.
    from django.contrib.auth import get_user_model

    from .audit import permissions

    permissions.connect(get_user_model())


_record_permission_changes()
