"""Cookies set by the site as a whole."""

from django.conf import settings
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
    settings.LANGUAGE_COOKIE_NAME,
    purpose=_("Remembers the language you chose"),
    category=CookieCategory.PREFERENCES,
    max_age=settings.LANGUAGE_COOKIE_AGE,
)
