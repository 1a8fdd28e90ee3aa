"""What the cookie and notice app stores, and the cookies it sets (policy C8).

Consent records hold a random consent ID, the choice, the policy version and the time: no IP
address, no browser details, no member. The ID lives only in the visitor's own cookie, so a
record cannot be tied to a person by anything the studio holds.
"""

from django.utils.translation import gettext_lazy as _

from kirakira.privacy.catalog import Context, catalog, not_personal
from kirakira.privacy.catalog.cookies import CookieCategory, register_cookie

from .cookies import CONSENT_COOKIE, COOKIE_AGE, PREFS_COOKIE

catalog.register(
    "consent.ConsentRecord",
    context=Context.SECURITY,
    not_personal=not_personal(
        "id",
        "consent_id",
        "choice",
        "policy_version",
        "cookies_digest",
        "created_at",
        reason="proof of a cookie choice under a random ID; no IP, browser or member is recorded",
    ),
)

catalog.register(
    "consent.Notice",
    context=Context.SECURITY,
    not_personal=not_personal(
        "id",
        "title_ja",
        "title_en",
        "title_ko",
        "body_ja",
        "body_en",
        "body_ko",
        "starts_at",
        "ends_at",
        "audience",
        "created_at",
        reason="a notice the studio publishes to everyone, members or visitors",
    ),
)

register_cookie(
    CONSENT_COOKIE,
    purpose=_(
        "Remembers your cookie choice (accept or refuse) under a random consent ID, so that we do not "
        "ask on every page"
    ),
    category=CookieCategory.ESSENTIAL,
    max_age=COOKIE_AGE,
)
register_cookie(
    PREFS_COOKIE,
    purpose=_(
        "Remembers the language you chose and the popups you asked not to be shown again; set only "
        "if you accept preference cookies"
    ),
    category=CookieCategory.PREFERENCES,
    max_age=COOKIE_AGE,
)
