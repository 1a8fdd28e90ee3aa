from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication
from knox.signals import token_expired
from rest_framework.exceptions import AuthenticationFailed

from kirakira.accounts.session_tracking import touch_token


class BearerTokenAuthentication(TokenAuthentication):
    """knox's hashed tokens, sent as ``Authorization: Bearer <token>``.

    A token is ASCII; anything else in the header (servers pass raw bytes through as Latin-1) is
    an invalid token, not a server error. An expired token is deleted when it is used (with its
    ``MemberToken``); the member's other expired tokens go with the periodic prune
    (``accounts.services.logins_prune``).
    """

    def _cleanup_token(self, auth_token) -> bool:
        # knox reads every token of the member on each request to delete the expired ones among
        # them: a second query per API call for what the prune already does. Only this one.
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False

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
