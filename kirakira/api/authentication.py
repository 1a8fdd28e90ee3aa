from django.utils.translation import gettext as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


class BearerTokenAuthentication(TokenAuthentication):
    """knox's hashed tokens, sent as ``Authorization: Bearer <token>``.

    A token is ASCII; anything else in the header (servers pass raw bytes through as
    Latin-1) is an invalid token, not a server error.
    """

    def authenticate_credentials(self, token: bytes):
        try:
            token.decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed(_("Invalid token.")) from None
        return super().authenticate_credentials(token)


class BearerTokenScheme(KnoxTokenScheme):
    target_class = "kirakira.api.authentication.BearerTokenAuthentication"
