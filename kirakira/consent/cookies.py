"""The two cookies of the consent scheme (policy C8), read and written in one place.

* ``kirakira_consent`` (essential) remembers the visitor's choice itself: a random consent ID,
  "accept" or "refuse", and the fingerprint of the cookie table the choice was made under. It is
  set only once the visitor has chosen, either way; without it the banner would ask on every
  page, so it is strictly necessary to honour a refusal.
* ``kirakira_prefs`` (preferences) holds the chosen language and the notices the visitor asked
  not to see again. It exists only while the choice is "accept"; refusing deletes it.

Threat model: both values come from the browser and may be forged, replayed from another
browser, truncated or blown up. They are signed with the site's secret key (``django.core.
signing``, a salt per cookie), capped in size and checked field by field; anything that fails is
ignored as if absent and replaced (or deleted) in the response, never an error. A copied cookie
only lets someone claim another visitor's consent ID for their own browser, which grants nothing.
"""

import re
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing

from kirakira.common.middleware import supported_language

CONSENT_COOKIE = "kirakira_consent"
PREFS_COOKIE = "kirakira_prefs"
COOKIE_AGE = 60 * 60 * 24 * 365
MAX_COOKIE_BYTES = 1024  # a value longer than this is not read at all
MAX_DISMISSED = 20  # the oldest dismissals are forgotten first
DIGEST_LENGTH = 16  # hex characters of the cookie table fingerprint kept in the cookie

_CONSENT_SALT = "kirakira.consent.choice"
_PREFS_SALT = "kirakira.consent.prefs"
_CONSENT_ID = re.compile(r"^[A-Za-z0-9_-]{16,32}$")
_DIGEST = re.compile(rf"^[0-9a-f]{{{DIGEST_LENGTH}}}$")
_NOTICE_KEY = re.compile(r"^[npt][0-9]{1,9}$")  # n<Notice id>, p<policy version number>, t<terms version>
CHOICES = ("accept", "refuse")


def new_consent_id() -> str:
    return secrets.token_urlsafe(16)  # 22 characters, 128 random bits


def _load(raw: str | None, salt: str) -> dict | None:
    if not raw or len(raw) > MAX_COOKIE_BYTES:
        return None
    try:
        value = signing.loads(raw, salt=salt)
    except (signing.BadSignature, ValueError, UnicodeError):
        return None
    return value if isinstance(value, dict) else None


@dataclass
class ConsentState:
    """What this request's cookies say, and what its response must write back."""

    consent_id: str | None = None
    choice: str | None = None
    digest: str | None = None
    language: str | None = None
    dismissed: list[str] = field(default_factory=list)
    # Bookkeeping for the response.
    had_consent_cookie: bool = False
    had_prefs_cookie: bool = False
    consent_valid: bool = False
    prefs_valid: bool = False
    consent_changed: bool = False
    prefs_changed: bool = False
    # Accepted under another cookie table than today's: asked again, and until then treated as
    # not accepted (nothing of the preferences cookie is read or kept).
    stale: bool = False

    @property
    def chosen(self) -> bool:
        return self.choice in CHOICES

    @property
    def accepted(self) -> bool:
        return self.choice == "accept" and not self.stale

    def needs_choice(self, current_digest) -> bool:
        """Ask (again) when nothing was chosen, or the cookie table changed since.
        ``current_digest`` is a callable, so nothing is looked up for a visitor yet to choose."""
        return not self.chosen or self.digest != current_digest()[:DIGEST_LENGTH]

    # --- changes, written out by the middleware -------------------------------------------------
    def choose(self, *, consent_id: str, choice: str, digest: str) -> None:
        self.consent_id, self.choice, self.digest = consent_id, choice, digest[:DIGEST_LENGTH]
        self.consent_changed, self.stale = True, False
        if choice != "accept":
            self.language, self.dismissed = None, []

    def remember_language(self, language: str) -> bool:
        if not self.accepted:
            return False
        if language != self.language:
            self.language = language
            self.prefs_changed = True
        return True

    def remember_dismissed(self, key: str) -> bool:
        if not self.accepted or not _NOTICE_KEY.match(key):
            return False
        if key not in self.dismissed:
            self.dismissed = [*self.dismissed, key][-MAX_DISMISSED:]
            self.prefs_changed = True
        return True

    # --- cookie values ---------------------------------------------------------------------------
    def consent_value(self) -> str:
        return signing.dumps({"id": self.consent_id, "c": self.choice, "d": self.digest}, salt=_CONSENT_SALT)

    def prefs_value(self) -> str:
        data = {}
        if self.language:
            data["l"] = self.language
        if self.dismissed:
            data["n"] = self.dismissed
        return signing.dumps(data, salt=_PREFS_SALT)

    @property
    def has_prefs(self) -> bool:
        return bool(self.language or self.dismissed)


def read(cookies, current_digest=None) -> ConsentState:
    """The state the request's cookies describe. ``current_digest`` (a callable giving the
    fingerprint of the cookie table consent is asked for now) is called only for a visitor who
    accepted, to tell whether that acceptance still holds."""
    state = ConsentState(
        had_consent_cookie=CONSENT_COOKIE in cookies, had_prefs_cookie=PREFS_COOKIE in cookies
    )
    consent = _load(cookies.get(CONSENT_COOKIE), _CONSENT_SALT)
    if (
        consent is not None
        and isinstance(consent.get("id"), str)
        and _CONSENT_ID.match(consent["id"])
        and consent.get("c") in CHOICES
        and isinstance(consent.get("d"), str)
        and _DIGEST.match(consent["d"])
    ):
        state.consent_id, state.choice, state.digest = consent["id"], consent["c"], consent["d"]
        state.consent_valid = True
    if state.accepted and current_digest is not None:
        state.stale = state.digest != current_digest()[:DIGEST_LENGTH]
    if not state.accepted:
        return state  # a preferences cookie without (current) consent is never read
    prefs = _load(cookies.get(PREFS_COOKIE), _PREFS_SALT)
    if prefs is None:
        return state
    language = prefs.get("l")
    dismissed = prefs.get("n", [])
    if language is not None and supported_language(language) != language:
        return state
    if not isinstance(dismissed, list) or len(dismissed) > MAX_DISMISSED:
        return state
    if not all(isinstance(key, str) and _NOTICE_KEY.match(key) for key in dismissed):
        return state
    state.language, state.dismissed, state.prefs_valid = language, dismissed, True
    return state


def write(state: ConsentState, response) -> None:
    """Set, replace or delete the two cookies so the browser holds exactly what ``state`` says."""
    options = {"samesite": "Lax", "secure": settings.SESSION_COOKIE_SECURE, "httponly": True}
    if state.consent_changed:
        response.set_cookie(CONSENT_COOKIE, state.consent_value(), max_age=COOKIE_AGE, **options)
    elif state.had_consent_cookie and not state.consent_valid:
        response.delete_cookie(CONSENT_COOKIE, samesite="Lax")
    wanted = state.accepted and state.has_prefs
    if wanted and (state.prefs_changed or state.consent_changed or not state.prefs_valid):
        response.set_cookie(PREFS_COOKIE, state.prefs_value(), max_age=COOKIE_AGE, **options)
    elif not wanted and state.had_prefs_cookie:
        response.delete_cookie(PREFS_COOKIE, samesite="Lax")
