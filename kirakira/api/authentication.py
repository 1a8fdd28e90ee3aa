from django.utils.translation import gettext as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from kirakira.accounts.session_tracking import touch_token


class BearerTokenAuthentication(TokenAuthentication):
    """knox's hashed tokens, sent as ``Authorization: Bearer <token>``.

    A token is ASCII; anything else in the header (servers pass raw bytes through as Latin-1) is
    an invalid token, not a server error. Expired tokens are deleted by knox as it meets them
    (with their ``MemberToken``).
    """

    def authenticate_credentials(self, token: bytes):
        try:
            token.decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed(_("Invalid token.")) from None
        user, auth_token = super().authenticate_credentials(token)
        # When it was last used, for the member's list of their logins (a write every few minutes).
        touch_token(auth_token)
        return user, auth_token


class BearerTokenScheme(KnoxTokenScheme):
    target_class = "kirakira.api.authentication.BearerTokenAuthentication"
