"""Single-use, expiring links for email confirmation.

The token is an HMAC over the member's current email state, so it stops working as soon as
the email is confirmed or changed again (reuse), and carries its own timestamp (expiry). The
URL holds only the member's UUID and the token: no personal data.
"""

from datetime import datetime

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int

from kirakira.common import clock


class EmailConfirmationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "kirakira.accounts.tokens.EmailConfirmationTokenGenerator"

    def _now(self) -> datetime:
        return clock.now().replace(tzinfo=None)

    def _make_hash_value(self, user, timestamp):
        confirmed = user.email_confirmed_at.isoformat() if user.email_confirmed_at else ""
        return f"{user.pk}|{user.email}|{user.pending_email}|{confirmed}|{timestamp}"

    def check_token(self, user, token):
        # Same as Django's, but with its own lifetime instead of PASSWORD_RESET_TIMEOUT.
        if not (user and token):
            return False
        try:
            ts_b36, _hash = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        for secret in [self.secret, *self.secret_fallbacks]:
            if constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token):
                break
        else:
            return False
        return (self._num_seconds(self._now()) - ts) <= settings.EMAIL_CONFIRMATION_TIMEOUT


email_confirmation_token = EmailConfirmationTokenGenerator()
