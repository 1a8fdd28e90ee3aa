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


def _record_permission_changes():
    # Connected here, where the privacy core's declarations are loaded at start-up, so that
    # every process (web, worker, management command) records changes of staff access.
    from django.contrib.auth import get_user_model

    from .audit import permissions

    permissions.connect(get_user_model())


_record_permission_changes()
