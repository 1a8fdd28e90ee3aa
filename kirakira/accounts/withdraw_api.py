"""``POST /api/v1/me/withdraw``: the member withdraws (退会), as the withdrawal pages do.

The work is ``kirakira.privacy.retention.withdrawal.member_withdraw``. The password is checked
here by ``authenticate``, so that wrong guesses count towards the login's lockout and slowdown
(as ``POST /me/password``'s do): a stolen token alone cannot end a membership. The token the
request is made with ends with every other one.
"""

from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from kirakira.api.inputs import StrictInput
from kirakira.orders import api as orders_api
from kirakira.privacy.retention.withdrawal import member_withdraw

from .api import _INVALID, _LOCKED_OUT, _NO_TOKEN, Conflict, _error, _retry_after, password_field
from .lockout import lockout_response


# The cancel API's refund account (the same fields and rules), refusing fields it does not take
# as every accounts input does. Its docstring is the schema's description.
class WithdrawalRefundAccountInput(StrictInput, orders_api.RefundAccountInput):
    """A bank account for a refund. Fields not listed here are refused (400, each named in `errors`)."""


class WithdrawApi(APIView):
    class WithdrawInput(StrictInput):
        password = password_field(help_text="The member's password, checked as a login's is.")
        refund_account = WithdrawalRefundAccountInput(
            required=False,
            allow_null=True,
            help_text="The bank account to refund to, as for `POST /api/v1/orders/{order_id}/cancel`. "
            "Required when an open order has been paid for (its `paid_yen` above 0, less any refund of "
            "an overpayment): withdrawing cancels it and refunds all of that there; without it the "
            "withdrawal is refused (400). Ignored otherwise. When given, all five fields are required.",
        )

    class WithdrawOutput(serializers.Serializer):
        withdrawn = serializers.BooleanField(help_text="Always true: the membership has ended.")
        cancelled_orders = serializers.IntegerField(help_text="How many open orders withdrawing cancelled.")
        refunds_due_yen = serializers.IntegerField(
            help_text="What the studio still owes the member, in yen (refunds of the cancelled orders and "
            "any refund due before): paid to the accounts given, as usual."
        )

    @extend_schema(
        request=WithdrawInput,
        responses={
            200: WithdrawOutput,
            400: _error(
                f"{_INVALID}; or the password is wrong (`errors.password`, counted as a failed login), "
                "or a paid order is open and no refund account was given (`errors.refund_account`), or "
                'the account is refused (`errors["refund_account.account_number"]` and the like). '
                "Nothing is changed."
            ),
            401: _NO_TOKEN,
            403: _error("A staff account: staff accounts are closed by the administrator, not withdrawn."),
            409: _error(
                "The account changed while the request was handled (its password changed, or it was "
                "withdrawn by another request). Nothing more is changed."
            ),
            429: _LOCKED_OUT,
        },
        parameters=[_retry_after("Seconds until the password may be tried again from this address.")],
        description=(
            "Withdraw from membership (退会), at once and for good. The member can no longer log in: "
            "every token, this one included, and every browser session ends. Open orders are "
            "cancelled; what was paid for them is refunded to `refund_account`, and refunds already "
            "due are still paid. What no rule requires to be kept is deleted; what a rule keeps "
            "(the privacy policy's retention table) is moved apart, readable only by the privacy "
            "officer, and disposed of at the end of its period. The email address can register "
            "again at once. A wrong password counts as a failed login of the member's login ID (the "
            "login's lockout and slowdown apply)."
        ),
    )
    def post(self, request):
        values = orders_api._validated(self.WithdrawInput(data=request.data))
        django_request = request._request
        checked = authenticate(django_request, username=request.user.login_id, password=values["password"])
        if getattr(django_request, "axes_locked_out", False):
            return lockout_response(django_request)
        if checked is None or checked.pk != request.user.pk:
            raise DjangoValidationError(
                {"password": [_("The password is incorrect. Please enter it again.")]}
            )
        account = values.get("refund_account")
        try:
            done = member_withdraw(
                user=request.user,
                checked_hash=checked.password,
                refund_account=dict(account) if account is not None else None,
            )
        except DjangoValidationError as exc:
            raise _refused(exc) from None
        return Response(
            self.WithdrawOutput(
                {
                    "withdrawn": True,
                    "cancelled_orders": done.cancelled_orders,
                    "refunds_due_yen": done.refunds_due_yen,
                }
            ).data
        )


_REFUND_FIELDS = set(orders_api.RefundAccountInput().fields)


def _refused(exc: DjangoValidationError) -> Exception:
    """The API's answer to the service's refusal: the refund account's errors under dotted
    names (as the cancel API names them), 403 for staff, 409 for an account that changed."""
    if hasattr(exc, "error_dict"):
        return DjangoValidationError(
            {
                (f"refund_account.{field}" if field in _REFUND_FIELDS else field): messages
                for field, messages in exc.message_dict.items()
            }
        )
    code = getattr(exc, "code", None)
    if code == "staff":
        return PermissionDenied(exc.messages[0])
    if code in ("stale", "already_withdrawn"):
        return Conflict(exc.messages[0])
    return exc
