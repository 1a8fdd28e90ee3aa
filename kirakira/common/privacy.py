"""Cookies set by the site as a whole (all essential: set only where a page needs them)."""

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.utils.translation import gettext_lazy as _

from kirakira.privacy.catalog.cookies import CookieCategory, register_cookie

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
