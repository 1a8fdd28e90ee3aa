"""How the models of installed third-party apps are classified in the privacy catalog.

Project apps declare their own data in their ``privacy.py``; what comes with Django and the
libraries Kirakira uses is declared here, in one place, so that the system check covers every
table in the database.
"""

from datetime import timedelta

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from kirakira.common.roles import Role
from kirakira.privacy import retention

from .catalog import Context, Item, Purpose, Retention, catalog, not_personal

PRIVACY_ROLES = [Role.PRIVACY_OFFICER, Role.PRIVACY_STAFF]

# Django's own bookkeeping: no personal data.
catalog.register(
    "auth.Permission",
    context=Context.SECURITY,
    third_party=True,
    not_personal=not_personal("id", "name", "content_type", "codename", reason="permission definitions"),
)
catalog.register(
    "auth.Group",
    context=Context.SECURITY,
    third_party=True,
    not_personal=not_personal("id", "name", "permissions", reason="staff role definitions"),
)
catalog.register(
    "contenttypes.ContentType",
    context=Context.SECURITY,
    third_party=True,
    not_personal=not_personal("id", "app_label", "model", reason="model registry"),
)
catalog.register(
    "django_tasks_database.DBTaskResult",
    context=Context.SECURITY,
    third_party=True,
    not_personal=not_personal(
        "id",
        "status",
        "enqueued_at",
        "started_at",
        "finished_at",
        "args_kwargs",
        "priority",
        "task_path",
        "worker_ids",
        "queue_name",
        "backend_name",
        "run_after",
        "return_value",
        "exception_class_path",
        "traceback",
        # Task arguments are IDs and codes only, and a failure keeps only the exception's class
        # and code locations (both enforced by kirakira/common/tasks.py).
        reason=(
            "background task bookkeeping; arguments carry IDs, failures only the exception's class "
            "and code locations, never personal data; finished rows are deleted "
            f"{settings.TASK_RESULT_RETENTION_DAYS} days after they finish (prune_task_results)"
        ),
    ),
)

# Login state: who is logged in, from a session cookie or an API token. Browser sessions are kept
# in accounts.BrowserSession (SESSION_ENGINE); Django's own table below stays empty. What a member
# sees of each token (client, last use) is accounts.MemberToken (kirakira/accounts/privacy.py).
catalog.register_record(
    "sessions.Session",
    context=Context.SECURITY,
    subject=None,
    items=[Item.SESSION],
    purposes=[Purpose.IDENTITY, Purpose.SECURITY],
    retention=Retention.UNTIL_PURPOSE_MET,
    third_party=True,
)
catalog.register_record(
    "knox.AuthToken",
    context=Context.SECURITY,
    subject="user",
    items=[Item.SESSION],
    purposes=[Purpose.IDENTITY, Purpose.SECURITY],
    retention=Retention.UNTIL_PURPOSE_MET,
    third_party=True,
)

# Failed logins, counted for the lockout (kept 15 minutes after the last failure).
for model in ("axes.AccessAttempt", "axes.AccessFailureLog", "axes.AccessLog"):
    catalog.register_record(
        model,
        context=Context.SECURITY,
        subject=None,
        items=[Item.LOGIN_ATTEMPT, Item.LOGIN_ID, Item.IP_ADDRESS, Item.TIME_OF_USE],
        purposes=[Purpose.SECURITY],
        retention=Retention.UNTIL_PURPOSE_MET,
        full=PRIVACY_ROLES,
        third_party=True,
    )
catalog.register(
    "axes.AccessAttemptExpiration",
    context=Context.SECURITY,
    third_party=True,
    not_personal=not_personal("access_attempt", "expires_at", reason="expiry time of a lockout counter"),
)

# The back office's own change history: what staff did, to which record.
catalog.register_record(
    "admin.LogEntry",
    context=Context.SECURITY,
    subject="user",
    items=[Item.STAFF_CHANGE_RECORD],
    purposes=[Purpose.ACCOUNTABILITY],
    retention=Retention.STAFF_ACCESS_2Y,
    full=[Role.PRIVACY_OFFICER],
    third_party=True,
)

# --- Retention (kirakira/privacy/retention) ----------------------------------------------------
retention.register(
    "sessions.Session",
    rule=Retention.UNTIL_PURPOSE_MET,
    event=_("the login expires or ends"),
    start="expire_date",
)
retention.register(
    "knox.AuthToken",
    rule=Retention.UNTIL_PURPOSE_MET,
    event=_("the API token expires or ends"),
    start="expiry",
    subject="user",
)
for _label in ("axes.AccessAttempt", "axes.AccessFailureLog", "axes.AccessLog"):
    retention.register(
        _label,
        rule=Retention.UNTIL_PURPOSE_MET,
        event=_("the days login attempts are kept for investigating attacks on accounts have passed"),
        start="attempt_time",
        after=lambda: timedelta(days=settings.LOGIN_ATTEMPT_RETENTION_DAYS),
    )
retention.register(
    "admin.LogEntry",
    rule=Retention.STAFF_ACCESS_2Y,
    event=_("the change is made"),
    start="action_time",
)
