"""The password backend, reading a logged-in request's user without a query of its own."""

from django.contrib.auth.backends import ModelBackend

from . import session_tracking


class SessionUserBackend(ModelBackend):
    """Django's ``ModelBackend``; ``get_user`` takes the member that the session engine read
    together with the session's row (one query for both, on every page a member opens). The
    checks are ModelBackend's: an inactive member is nobody, and Django then compares the
    session's password hash as always."""

    def get_user(self, user_id):
        user = session_tracking.loaded_user(user_id)
        if user is None:
            return super().get_user(user_id)
        return user if self.user_can_authenticate(user) else None
