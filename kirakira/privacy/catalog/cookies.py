"""The cookie registry: every cookie the site can set, declared like personal data fields.

The policy page's cookie table is generated from it.
"""

from dataclasses import dataclass

from django.db.models import TextChoices
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


class CookieCategory(TextChoices):
    ESSENTIAL = "essential", _("Essential")
    PREFERENCES = "preferences", _("Preferences")


@dataclass(frozen=True)
class Cookie:
    name: str
    purpose: Promise
    category: CookieCategory
    max_age: int | None  # seconds; None for a cookie that ends with the browser session
    first_party: bool = True  # set by this site itself (Kirakira sets no third-party cookie)

    @property
    def lifetime_label(self) -> str:
        if self.max_age is None:
            return str(_("until the browser is closed"))
        days = round(self.max_age / 86400)
        if days >= 365 and days % 365 == 0:
            years = days // 365
            return ngettext("%(n)d year", "%(n)d years", years) % {"n": years}
        if days >= 1:
            return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
        hours = max(round(self.max_age / 3600), 1)
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}


_cookies: dict[str, Cookie] = {}


def register_cookie(
    name: str, *, purpose: Promise, category: CookieCategory, max_age: int | None, first_party: bool = True
) -> Cookie:
    cookie = Cookie(name=name, purpose=purpose, category=category, max_age=max_age, first_party=first_party)
    _cookies[name] = cookie
    return cookie


def cookies() -> list[Cookie]:
    return sorted(_cookies.values(), key=lambda c: (c.category != CookieCategory.ESSENTIAL, c.name))


def cookie(name: str) -> Cookie | None:
    return _cookies.get(name)


def names() -> set[str]:
    return set(_cookies)
