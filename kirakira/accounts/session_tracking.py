"""Logins a member can see and end: browser sessions and API tokens.

Design and threat model. A login its owner cannot see cannot be ended, and a login that
outlives a password change keeps whoever stole the old password in. So:

- Browser sessions are Django's database sessions kept in our own table (``BrowserSession``,
  through the session engine's documented extension point: ``SESSION_ENGINE`` names this
  module), with the member, the time of login and of last use, and a short description of the
  browser. Ending a session deletes its row: the next request with that cookie finds no
  session and is anonymous, whatever it holds. This costs no query per request (the engine
  reads the row anyway); the time of last use is written at most every ``LAST_USE_INTERVAL``.
- API tokens are knox's; ``MemberToken`` beside each keeps what knox does not (client, last use).
- A new password or a deactivation (``User.save``) and a confirmed email change (the service)
  end every token and every session of the member except the session making the change, which
  this module's middleware makes known as the current one.
- What is kept about the client is a label from a closed list ("Firefox (Windows)"), never the
  raw User-Agent header: enough for a member to recognise a device, nothing more.
"""

import logging
import uuid
from contextvars import ContextVar
from datetime import datetime, timedelta

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.exceptions import SuspiciousOperation
from django.db.models import Q
from django.utils import timezone

from kirakira.common import clock

from .models import BrowserSession, MemberToken

# How stale the recorded last use may get before a request writes it again.
LAST_USE_INTERVAL = timedelta(minutes=5)

# Session data: what the row's extra columns are copied from on every save.
LOGIN_DATA_KEY = "_kirakira_login"

_current_session: ContextVar = ContextVar("kirakira_current_session", default=None)


# --- The session engine -------------------------------------------------------------------------


def _login_data(client: str) -> dict:
    return {"id": str(uuid.uuid4()), "created": clock.now().isoformat(), "client": client}


class SessionStore(DatabaseSessionStore):
    """Django's database sessions in ``BrowserSession``; ``SESSION_ENGINE`` names this module."""

    # The loaded row's member and last use, for the middleware's touch; the member's own row,
    # read with the session's, for the authentication backend (``loaded_user``).
    row_user_id = None
    row_last_used_at = None
    row_user = None

    @classmethod
    def get_model_class(cls):
        return BrowserSession

    def _get_session_from_db(self):
        # Django's own lookup, with the member joined in: the request's user then costs no
        # query of its own (SessionUserBackend.get_user).
        try:
            row = self.model.objects.select_related("user").get(
                session_key=self.session_key, expire_date__gt=timezone.now()
            )
        except (self.model.DoesNotExist, SuspiciousOperation) as e:
            if isinstance(e, SuspiciousOperation):
                logging.getLogger(f"django.security.{e.__class__.__name__}").warning(str(e))
            self._session_key = None
            row = None
        self.row_user_id = row.user_id if row else None
        self.row_last_used_at = row.last_used_at if row else None
        self.row_user = row.user if row else None
        return row

    def _with_login_data(self, data: dict) -> dict:
        # A session logged in some other way than login() (none in the code) still gets a name.
        if data.get(SESSION_KEY) and LOGIN_DATA_KEY not in data:
            data[LOGIN_DATA_KEY] = _login_data("")
        return data

    @staticmethod
    def _fill(row: BrowserSession, data: dict) -> BrowserSession:
        login = data.get(LOGIN_DATA_KEY)
        if data.get(SESSION_KEY) and login:
            row.user_id = data[SESSION_KEY]
            row.public_id = login["id"]
            row.created_at = datetime.fromisoformat(login["created"])
            row.client = login["client"]
            row.last_used_at = clock.now()
        return row

    def create_model_instance(self, data):
        data = self._with_login_data(data)
        return self._fill(super().create_model_instance(data), data)

    async def acreate_model_instance(self, data):
        data = self._with_login_data(data)
        return self._fill(await super().acreate_model_instance(data), data)


def record_login(sender, request, user, **kwargs) -> None:
    """``user_logged_in``: name a browser's new login. The API's token login sends the same
    signal with a request whose session is not logged in; it is left alone."""
    session = getattr(request, "session", None)
    if session is None or session.get(SESSION_KEY) != str(user.pk):
        return
    if LOGIN_DATA_KEY not in session:  # logging in again in the same session keeps its name
        session[LOGIN_DATA_KEY] = _login_data(describe_client(request.META.get("HTTP_USER_AGENT", "")))


class SessionTrackingMiddleware:
    """Makes the request's session known as the current one (a password change keeps it) and
    records its last use. Runs after ``AuthenticationMiddleware``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        marker = _current_session.set(session)
        try:
            response = self.get_response(request)
        finally:
            _current_session.reset(marker)
        if session is not None:
            _touch(session)
        return response


def _touch(session) -> None:
    # Only a member's session that was read anyway; a modified one is saved with its last use.
    if not session.accessed or session.modified or session.session_key is None:
        return
    if getattr(session, "row_user_id", None) is None:
        return
    now = clock.now()
    last = session.row_last_used_at
    if last is None or now - last >= LAST_USE_INTERVAL:
        BrowserSession.objects.filter(session_key=session.session_key).update(last_used_at=now)


def loaded_user(user_id):
    """The member read with the session of the request being answered, when the session names
    ``user_id``: the row is as fresh as a query of its own, made a moment before in the same
    request. ``None`` otherwise (another user, no session read, outside a request)."""
    session = _current_session.get()
    user = getattr(session, "row_user", None)
    if user is None or str(user.pk) != str(user_id):
        return None
    return user


def current_session_key(user) -> str | None:
    """The key of the session of the request being answered, when it is logged in as ``user``."""
    session = _current_session.get()
    if session is None or session.get(SESSION_KEY) != str(user.pk):
        return None
    return session.session_key


# --- API tokens ---------------------------------------------------------------------------------


# When this process last recorded each token's use: within LAST_USE_INTERVAL the statement would
# change nothing, so it is not sent (another process may still send it once).
_touched: dict[str, object] = {}


def touch_token(token) -> None:
    """Record that ``token`` (knox's AuthToken) was used: one conditional statement, which
    writes at most every ``LAST_USE_INTERVAL``, and none while this process sent one within it."""
    now = clock.now()
    last = _touched.get(token.pk)
    if last is not None and last > now - LAST_USE_INTERVAL and last <= now:
        return
    MemberToken.objects.filter(token_id=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USE_INTERVAL)
    ).update(last_used_at=now)
    if len(_touched) > 10_000:
        _touched.clear()
    _touched[token.pk] = now


# --- Reads for the member's pages and the API ---------------------------------------------------


def member_sessions(*, user, current_key: str | None) -> list[BrowserSession]:
    """The member's live browser sessions, most recently used first; ``is_current`` marks the
    one of the request."""
    rows = list(
        BrowserSession.objects.filter(user=user, expire_date__gt=clock.now())
        .only("session_key", "public_id", "created_at", "last_used_at", "client")
        .order_by("-last_used_at", "-created_at")
    )
    for row in rows:
        row.is_current = current_key is not None and row.session_key == current_key
    return rows


def member_tokens(*, user) -> list[MemberToken]:
    """The member's live API tokens, newest first (their ``token`` loaded alongside)."""
    return list(
        MemberToken.objects.filter(token__user=user)
        .filter(Q(token__expiry__isnull=True) | Q(token__expiry__gt=clock.now()))
        .select_related("token")
        .order_by("-token__created")
    )


# --- The client's description -------------------------------------------------------------------

# A closed list, checked in order (Edge and Opera also say "Chrome", Chrome also says "Safari").
# Written here rather than taken from a user-agent parsing library: a label of a few dozen known
# names needs no dependency with thousands of patterns, and what is not in the list is not kept.
_BROWSERS = (
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("FxiOS/", "Firefox"),
    ("Firefox/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("CrOS", "ChromeOS"),
    ("Macintosh", "macOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)
_PROGRAMS = (
    ("curl/", "curl"),
    ("Wget/", "Wget"),
    ("python-requests/", "Python"),
    ("python-httpx/", "Python"),
    ("Python-urllib/", "Python"),
    ("aiohttp/", "Python"),
    ("okhttp/", "OkHttp"),
    ("PostmanRuntime/", "Postman"),
    ("Go-http-client/", "Go"),
    ("node", "Node.js"),
    ("axios/", "Node.js"),
)


def describe_client(user_agent: str) -> str:
    """A short label for a User-Agent header ("Firefox (Windows)", "curl"); "" when unknown."""
    user_agent = user_agent[:512]
    for marker, name in _PROGRAMS:
        if user_agent.startswith(marker):
            return name
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), "")
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), "")
    if browser and system:
        return f"{browser} ({system})"
    return browser or system
