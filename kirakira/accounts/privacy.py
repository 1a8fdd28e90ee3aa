"""Member accounts (policy: member registration and management — name, email address, ID).

Staff accounts live in the same table and are covered by the same declarations.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kirakira.privacy import retention
from kirakira.privacy.catalog import (
    ALL_STAFF_ROLES,
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

MEMBER_PURPOSES = [Purpose.IDENTITY, Purpose.CUSTOMER_CONFIRMATION, Purpose.NOTICES]

catalog.register(
    "accounts.User",
    context=Context.MEMBERSHIP,
    subject="pk",
    fields=[
        personal(
            "login_id",
            Item.LOGIN_ID,
            purposes=MEMBER_PURPOSES,
            retention=Retention.WITHDRAWN_MEMBER_5Y,
            full=ALL_STAFF_ROLES,
        ),
        personal(
            "name",
            Item.NAME,
            purposes=MEMBER_PURPOSES,
            retention=Retention.WITHDRAWN_MEMBER_5Y,
            full=ALL_STAFF_ROLES,
        ),
        personal(
            "email",
            Item.EMAIL,
            purposes=MEMBER_PURPOSES,
            retention=Retention.WITHDRAWN_MEMBER_5Y,
            protection=Protection.ENCRYPTED,
            full=[Role.CUSTOMER_SERVICE, Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
            masked=[Role.ACCOUNTING, Role.ADMINISTRATOR],
            mask=Mask.EMAIL,
        ),
        personal(
            "pending_email",
            Item.EMAIL,
            purposes=[Purpose.IDENTITY, Purpose.NOTICES],
            retention=Retention.UNTIL_PURPOSE_MET,
            protection=Protection.ENCRYPTED,
            full=[Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
            masked=[Role.CUSTOMER_SERVICE],
            mask=Mask.EMAIL,
        ),
        # A keyed hash of the email, for lookups and uniqueness; shown to nobody.
        personal(
            "email_index",
            Item.EMAIL,
            purposes=MEMBER_PURPOSES,
            retention=Retention.WITHDRAWN_MEMBER_5Y,
            protection=Protection.ONE_WAY,
        ),
        personal(
            "password",
            Item.PASSWORD,
            purposes=[Purpose.IDENTITY, Purpose.SECURITY],
            retention=Retention.UNTIL_PURPOSE_MET,
            protection=Protection.ONE_WAY,
        ),
        personal(
            "last_login",
            Item.TIME_OF_USE,
            purposes=[Purpose.IDENTITY, Purpose.SECURITY],
            retention=Retention.WITHDRAWN_MEMBER_5Y,
            full=[Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF],
            automatic=True,
        ),
    ],
    not_personal=not_personal(
        "id",
        "language",
        "is_staff",
        "is_active",
        "is_superuser",
        "groups",
        "user_permissions",
        "email_confirmed_at",
        "date_joined",
        "withdrawn_at",
        reason="account state and settings: they describe the account, not the person, and are "
        "disposed of with it",
    ),
)

# A member's logins as the member sees and ends them on "my page" (session_tracking.py): when
# each was made and last used, and a short label of the browser or program ("Firefox (Windows)",
# "curl"; never the raw User-Agent header). Personal: they describe a member's devices and
# when the member used the service. They go when the login ends — logout, expiry, a password or
# email change, a deactivation, or the member ending it.
catalog.register_record(
    "accounts.BrowserSession",
    context=Context.SECURITY,
    subject="user",
    items=[Item.SESSION, Item.TIME_OF_USE],
    purposes=[Purpose.IDENTITY, Purpose.SECURITY],
    retention=Retention.UNTIL_PURPOSE_MET,
    automatic=True,
)
catalog.register_record(
    "accounts.MemberToken",
    context=Context.SECURITY,
    subject="token",  # knox's AuthToken, whose user is the member
    items=[Item.SESSION, Item.TIME_OF_USE],
    purposes=[Purpose.IDENTITY, Purpose.SECURITY],
    retention=Retention.UNTIL_PURPOSE_MET,
    automatic=True,
)

# The addresses each account (member or staff) logged in from successfully, as keyed hashes
# with the time last seen (throttles.py): an attack on a login ID never slows its owner down at
# those addresses. Shown to nobody. The purpose is met once an address is unseen for
# LOGIN_ID_FAMILIAR_DAYS (it no longer counts as the owner's); prune_logins deletes it then,
# and the rows go with their account.
catalog.register_record(
    "accounts.KnownLoginAddress",
    context=Context.SECURITY,
    subject="user",
    items=[Item.IP_ADDRESS, Item.TIME_OF_USE],
    purposes=[Purpose.SECURITY],
    retention=Retention.UNTIL_PURPOSE_MET,
    automatic=True,
)

# A staff account's change of roles waiting for the privacy officer (kirakira/accounts/staff.py):
# who asked, about which account, which roles, and the decision. A record of staff access
# rights, kept as long as the permission-change log it completes; the privacy officer decides,
# and the administrator sees the requests they made.
catalog.register_record(
    "accounts.RoleRequest",
    context=Context.SECURITY,
    subject="account",
    items=[Item.ACCESS_RIGHTS_RECORD],
    purposes=[Purpose.ACCOUNTABILITY, Purpose.SECURITY],
    retention=Retention.PERMISSION_CHANGE_3Y,
    full=[Role.PRIVACY_OFFICER, Role.ADMINISTRATOR],
)

# The second factor of staff accounts (django-otp, kirakira/accounts/gate): each account's TOTP
# key, its single-use backup codes and when they were last used. Secrets of the account, like
# its password: shown to its owner once, at enrolment, and to nobody after (no back-office
# page lists them). They go with the account.
for _model, _subject in (
    ("otp_totp.TOTPDevice", "user"),
    ("otp_static.StaticDevice", "user"),
    ("otp_static.StaticToken", "device"),  # a backup code, whose device is the account's
):
    catalog.register_record(
        _model,
        context=Context.SECURITY,
        subject=_subject,
        items=[Item.PASSWORD, Item.TIME_OF_USE],
        purposes=[Purpose.IDENTITY, Purpose.SECURITY],
        retention=Retention.UNTIL_PURPOSE_MET,
        third_party=True,
    )

# --- Retention: how each of the above is disposed of (kirakira/privacy/retention) -------------
retention.register(
    "accounts.User",
    rule=Retention.WITHDRAWN_MEMBER_5Y,
    event=_("the member withdraws: the account is emptied at once and its kept records move to separate storage"),
    custom=retention.dispose_withdrawn_members,
    subject="pk",
    name="accounts.User:withdrawn",
    order=10,
)
retention.register(
    "accounts.User",
    rule=Retention.UNTIL_PURPOSE_MET,
    event=_("the member withdraws: the password and any email address awaiting confirmation are deleted"),
    with_parent="accounts.User:withdrawn",
)
retention.register(
    "accounts.BrowserSession",
    rule=Retention.UNTIL_PURPOSE_MET,
    event=_("the login expires or ends"),
    start="expire_date",
    subject="user",
)
retention.register(
    "accounts.MemberToken",
    rule=Retention.UNTIL_PURPOSE_MET,
    event=_("the API token expires or ends"),
    with_parent="knox.AuthToken:until_purpose_met",
)
retention.register(
    "accounts.KnownLoginAddress",
    rule=Retention.UNTIL_PURPOSE_MET,
    event=_("the address has not been used to log in for the days a login address stays familiar"),
    start="last_seen_at",
    after=lambda: timedelta(days=settings.LOGIN_ID_FAMILIAR_DAYS),
    subject="user",
)
retention.register(
    "accounts.RoleRequest",
    rule=Retention.PERMISSION_CHANGE_3Y,
    event=_("the request is decided"),
    start="decided_at",
)
for _label in ("otp_totp.TOTPDevice", "otp_static.StaticDevice"):
    retention.register(
        _label,
        rule=Retention.UNTIL_PURPOSE_MET,
        event=_("the staff account is closed"),
        where=Q(user__is_active=False),
    )
retention.register(
    "otp_static.StaticToken",
    rule=Retention.UNTIL_PURPOSE_MET,
    event=_("the staff account is closed"),
    with_parent="otp_static.StaticDevice:until_purpose_met",
)
