"""What the site as a whole stores: the email delivery ledger (no personal data), and the
cookies it sets (all essential: set only where a page needs them)."""

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.utils.translation import gettext_lazy as _

from kirakira.privacy.catalog import Context, catalog, not_personal
from kirakira.privacy.catalog.cookies import CookieCategory, register_cookie

catalog.register(
    "common.EmailDelivery",
    context=Context.SECURITY,
    not_personal=not_personal(
        "id",
        "kind",
        "key",
        "sent_at",
        reason=(
            "which email was sent, as its kind and the IDs of what it is about (never an address or a "
            "name), so that a task run twice sends it once; deleted "
            f"{settings.TASK_RESULT_RETENTION_DAYS} days after it is sent, with the finished task rows "
            "(prune_task_results)"
        ),
    ),
)
catalog.register(
    "common.WorkerHeartbeat",
    context=Context.SECURITY,
    not_personal=not_personal(
        "id",
        "worker_id",
        "seen_at",
        reason="when each task worker, known by a random ID, last went round its loop (the readiness check)",
    ),
)

register_cookie(
    settings.SESSION_COOKIE_NAME,
    purpose=_("Keeps you logged in"),
    category=CookieCategory.ESSENTIAL,
    max_age=settings.SESSION_COOKIE_AGE,
)
register_cookie(
    settings.CSRF_COOKIE_NAME,
    purpose=_("Protects the forms you send against forgery"),
    category=CookieCategory.ESSENTIAL,
    max_age=settings.CSRF_COOKIE_AGE,
)
register_cookie(
    CookieStorage.cookie_name,
    purpose=_('Carries a one-time message, such as "your email address is confirmed", to the next page'),
    category=CookieCategory.ESSENTIAL,
    max_age=None,
)
