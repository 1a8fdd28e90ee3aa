"""The idle limit of staff sessions and the gate before the back office.

Both run on every request of a signed-in staff member (``is_staff``), after ``OTPMiddleware``.

Idle limit. A staff session ends ``STAFF_SESSION_IDLE_SECONDS`` (15 minutes) after its last
request, on any URL: the session keeps the time of its last request (written at most once a
``TOUCH_INTERVAL``, so not every request writes the session), and a request that comes later
logs the session out before anything else reads it. Members keep the normal session length.

The gate. Every back-office URL (``/backoffice/…`` and ``/en/backoffice/…``…), except the
gate's own pages, login, logout, password change and the JavaScript catalog, is reached only by
a staff member who has, in this order: (a) passed the second factor in this session, (b)
accepted the current security pledge, (c) a training record completed less than 12 months ago
(``selectors.missing_step``). Otherwise a GET is redirected to the page of the missing step (the
URL asked for is kept in the session, not in the redirect, and reopened once the steps are
done) and any other method is refused with a 403 page. Each refusal is written to the staff
access log (``record_refusal``), except on the back office's home page, which shows no personal
data and is where every login lands first.

No pledge published yet: step (b) cannot be passed, so everybody is stopped with a page saying
so, except that the privacy officer (who may publish it) reaches, after the second factor, the
pledge's and the training records' back-office pages. The same holds when the officer's own
pledge or training is missing or lapsed: the pages that let them put it right show no member's
data, and without them nobody could ever pass the gate again.
"""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import logout
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language_from_path
from django.utils.translation import gettext as _

from kirakira.common import clock
from kirakira.common.errors import BACK_OFFICE_PREFIX
from kirakira.privacy.access_log.services import record_refusal

from . import selectors
from .services import PUBLISH_PERMISSION

# How stale the recorded time of the last request may get before a request writes it again.
TOUCH_INTERVAL = 60
LAST_SEEN_KEY = "_kirakira_staff_seen"
# The back-office URL a staff member asked for before the gate sent them to one of its pages.
NEXT_KEY = "_kirakira_gate_next"

# Back-office pages every signed-in staff member reaches (after ``BACK_OFFICE_PREFIX``).
OPEN_PAGES = frozenset({"login/", "logout/", "password_change/", "password_change/done/", "jsi18n/"})
GATE_PAGES = "gate/"
# The pages that put the gate right, for the privacy officer (see the module's docstring).
OFFICER_PAGES = ("staff_gate/securitypledge/", "staff_gate/trainingrecord/")

STEP_URLS = {
    selectors.SECOND_FACTOR: "staff_gate:verify",
    selectors.NO_PLEDGE: "staff_gate:no_pledge",
    selectors.PLEDGE: "staff_gate:pledge",
    selectors.TRAINING: "staff_gate:training",
}


def back_office_rest(path: str) -> str | None:
    """What follows the back-office prefix in ``path`` (language prefix or not), or ``None``
    when ``path`` is not a back-office URL."""
    language = get_language_from_path(path)
    if language:
        path = path.removeprefix(f"/{language}")
    if not path.startswith(BACK_OFFICE_PREFIX):
        return None
    return path[len(BACK_OFFICE_PREFIX) :]


def _idle_for(session) -> float | None:
    seen = session.get(LAST_SEEN_KEY)
    if not isinstance(seen, (int, float)):
        return None
    return clock.now().timestamp() - seen


def _keep_alive(request) -> bool:
    """False when the staff session has been idle too long (it is then logged out)."""
    session = request.session
    idle = _idle_for(session)
    limit = settings.STAFF_SESSION_IDLE_SECONDS
    if idle is not None and idle > limit:
        logout(request)
        return False
    if idle is None or idle >= TOUCH_INTERVAL or idle < 0:
        session[LAST_SEEN_KEY] = clock.now().timestamp()
        # The cookie and the stored session expire with the idle limit too.
        session.set_expiry(limit)
    return True


def _without_search(request) -> str:
    """The page to return to, without a search's terms (``?q=``): they may be a member's name or
    address, and the session is no place to keep them."""
    query = request.GET.copy()
    query.pop("q", None)
    return request.path + (f"?{query.urlencode()}" if query else "")


def refuse(request, why: str, *, log: bool = True):
    """The gate's answer when ``why`` (a step of ``selectors``) is missing."""
    if log:
        record_refusal(request, why=why)
    url = reverse(STEP_URLS[why])
    if request.method in ("GET", "HEAD"):
        request.session[NEXT_KEY] = _without_search(request)
        return HttpResponseRedirect(url)
    return render(
        request,
        "staff_gate/refused.html",
        {
            **admin.site.each_context(request),
            "title": _("Not yet: complete the steps before personal data"),
            "step_url": url,
            "why": why,
            "is_nav_sidebar_enabled": False,
        },
        status=403,
    )


def _officer_may_pass(user, rest: str, why: str) -> bool:
    return (
        why != selectors.SECOND_FACTOR
        and rest.startswith(OFFICER_PAGES)
        and user.has_perm(PUBLISH_PERMISSION)
    )


class StaffGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_staff:
            return self.get_response(request)
        if not _keep_alive(request):
            return self.get_response(request)
        rest = back_office_rest(request.path_info)
        if rest is None or rest in OPEN_PAGES or rest.startswith(GATE_PAGES):
            return self.get_response(request)
        why = selectors.missing_step(user)
        if why is None or _officer_may_pass(user, rest, why):
            return self.get_response(request)
        return refuse(request, why, log=rest != "")
