"""The lockout (django-axes) and the second factor.

A wrong, forged or replayed second-factor code, or a backup code already used, is a failed
login: it is sent as ``user_login_failed`` with the login ID, as the login form sends a wrong
password, so that axes counts it against the same (login ID, address) pair and locks the pair
after ``AXES_FAILURE_LIMIT`` failures of either kind.

For staff the password alone is half a login. Axes clears the count on every successful login
(``AXES_RESET_ON_SUCCESS``); if a staff member's password login cleared it, whoever holds the
password could log in again before every fifth guess of a code and never be locked. So for staff
the count is cleared only once the second factor is passed too (``second_factor_passed``).
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.signals import user_login_failed


def _credentials(user) -> dict:
    return {"username": user.get_username()}


class StaffLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler, except that a staff account's password login keeps its count."""

    def user_logged_in(self, sender, request, user, **kwargs):
        request.kirakira_keep_failures = bool(getattr(user, "is_staff", False))
        try:
            return super().user_logged_in(sender, request, user, **kwargs)
        finally:
            request.kirakira_keep_failures = False

    def reset_user_attempts(self, request, credentials=None) -> int:
        if getattr(request, "kirakira_keep_failures", False):
            return 0
        return super().reset_user_attempts(request, credentials)


def second_factor_failed(request, user) -> bool:
    """Count a refused code as a failed login of ``user`` from this request's address; True
    when that locks the pair."""
    user_login_failed.send(sender=__name__, credentials=_credentials(user), request=request)
    return bool(getattr(request, "axes_locked_out", False))


def second_factor_passed(request, user) -> None:
    """The whole login succeeded: clear the pair's count as axes does for a member's login."""
    if not settings.AXES_RESET_ON_SUCCESS:
        return
    AxesProxyHandler.update_request(request)
    AxesProxyHandler.get_implementation().reset_user_attempts(request, _credentials(user))


def is_locked(request, user) -> bool:
    return AxesProxyHandler.is_locked(request, _credentials(user))
