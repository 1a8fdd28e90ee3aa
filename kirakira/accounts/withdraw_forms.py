"""The withdrawal pages' forms: the password (and, when cancelling open orders refunds money,
the bank account) on the first step, then a signed token that carries what was checked to the
confirmation step.

Design and threat model. Withdrawal cannot be undone, so it is asked for twice, and the password
is checked first: a browser left logged in must not be enough. The password is checked by
``authenticate``, so wrong guesses count towards the login's lockout and slowdown, as the
password change's do. Nothing of the password reaches the confirmation page or the session:
the token carries the account, a keyed digest of the password hash it matched (so a password
changed between the steps is noticed, without putting the hash itself into a page), what was
shown to be confirmed (the open orders and the refund), and the refund account. It is signed,
not encrypted: what it holds is the member's own, shown on their own page. It is good for ten
minutes (``CONFIRMATION_MAX_AGE``) and only for the member who was asked.
"""

import hmac

from django import forms
from django.contrib.auth import authenticate
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from kirakira.common.forms import apply_service_errors
from kirakira.orders.forms import RefundAccountForm
from kirakira.orders.normalization import clean_refund_account

CONFIRMATION_SALT = "kirakira.accounts.withdraw.confirmation"
CONFIRMATION_MAX_AGE = 10 * 60  # seconds
_HASH_DIGEST_SALT = "kirakira.accounts.withdraw.password-hash"


def password_hash_digest(password_hash: str) -> str:
    return salted_hmac(_HASH_DIGEST_SALT, password_hash, algorithm="sha256").hexdigest()


class WithdrawForm(forms.Form):
    """The first step: the member's password, checked as a login would be."""

    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.checked_hash = None

    def clean_password(self):
        password = self.cleaned_data["password"]
        user = self.request.user
        checked = authenticate(self.request, username=user.login_id, password=password)
        if checked is None or checked.pk != user.pk:
            raise ValidationError(
                _("The password is incorrect. Please enter it again."), code="password_incorrect"
            )
        self.checked_hash = checked.password
        return password

    @property
    def locked_out(self) -> bool:
        """Whether django-axes, or the login ID slowdown (which sets axes' flag too), turned the
        check away."""
        return bool(getattr(self.request, "axes_locked_out", False))


class WithdrawRefundForm(RefundAccountForm):
    """The order cancel form's bank account fields, checked on the first step with the rules
    ``order_cancel`` applies on the last, so that a mistake is told before the confirmation."""

    def refund_account(self) -> dict | None:
        """The account, cleaned; None with the errors on the form."""
        try:
            return clean_refund_account(
                {name: self.cleaned_data.get(name, "") for name in self.REFUND_FIELDS}
            )
        except ValidationError as exc:
            apply_service_errors(self, exc)
            return None


def confirmation_token(*, user, checked_hash: str, order_ids, refund_yen: int, refund_account) -> str:
    return signing.TimestampSigner(salt=CONFIRMATION_SALT).sign_object(
        {
            "user": str(user.pk),
            "hash_digest": password_hash_digest(checked_hash),
            "orders": sorted(str(pk) for pk in order_ids),
            "refund_yen": refund_yen,
            "refund_account": refund_account,
        }
    )


class WithdrawConfirmForm(forms.Form):
    """The second step: the token of the first, whatever else is posted ignored."""

    token = forms.CharField(widget=forms.HiddenInput)

    def clean_token(self):
        try:
            return signing.TimestampSigner(salt=CONFIRMATION_SALT).unsign_object(
                self.cleaned_data["token"], max_age=CONFIRMATION_MAX_AGE
            )
        except signing.BadSignature:  # SignatureExpired included
            raise ValidationError(
                _("This confirmation has expired. Please enter your password again."), code="expired"
            ) from None

    @staticmethod
    def hash_matches(payload: dict, user) -> bool:
        """Whether ``user``'s password hash is still the one the first step checked."""
        return hmac.compare_digest(payload.get("hash_digest", ""), password_hash_digest(user.password))
