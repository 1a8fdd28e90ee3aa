"""Links for visitors, who have no account: a single-use, expiring link that confirms their
email address, and a link to their thread that comes with each reply.

Signed (Django's ``signing``) and time-stamped; they carry only the consultation's UUID, no
personal data. Confirmation is single-use by state: once confirmed, the link says "used".
"""

from django.conf import settings
from django.core import signing

from kirakira.common import clock

_CONFIRM_SALT = "kirakira.consultations.confirm"
_THREAD_SALT = "kirakira.consultations.thread"


class LinkInvalid(Exception):
    pass


class LinkExpired(LinkInvalid):
    pass


class _Signer(signing.TimestampSigner):
    def timestamp(self):
        # The project's clock, so that tests can move time.
        return signing.b62_encode(int(clock.now().timestamp()))

    def unsign(self, value, max_age=None):
        result = signing.Signer.unsign(self, value)
        value, timestamp = result.rsplit(self.sep, 1)
        age = clock.now().timestamp() - signing.b62_decode(timestamp)
        if max_age is not None and age > max_age:
            raise signing.SignatureExpired("expired")
        return value


def _make(consultation, salt) -> str:
    return _Signer(salt=salt).sign(str(consultation.pk))


def _read(token: str, salt: str, max_age: int) -> str:
    try:
        return _Signer(salt=salt).unsign(token, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkExpired from None
    except signing.BadSignature:
        raise LinkInvalid from None


def confirmation_token(consultation) -> str:
    return _make(consultation, _CONFIRM_SALT)


def read_confirmation_token(token: str) -> str:
    return _read(token, _CONFIRM_SALT, settings.CONSULTATION_CONFIRMATION_TIMEOUT)


def thread_token(consultation) -> str:
    return _make(consultation, _THREAD_SALT)


def read_thread_token(token: str) -> str:
    return _read(token, _THREAD_SALT, settings.CONSULTATION_THREAD_LINK_TIMEOUT)
