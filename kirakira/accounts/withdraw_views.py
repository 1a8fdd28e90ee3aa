"""The member's withdrawal (退会) pages: what happens and the password (first step), a summary
and the button (second step), then a public page saying it is done.

The work is ``kirakira.privacy.retention.withdrawal.member_withdraw``; these views ask for it
twice and explain it. What the first step checked travels to the second in a signed token
(``withdraw_forms``), never the password. The second step compares what it is about to do with
what the member confirmed (the open orders and the refund): a payment recorded in between sends
the member back to the first step rather than cancelling more than they saw.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model, logout
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from kirakira.orders.lifecycle import CANCELLABLE, cancellation_refund
from kirakira.orders.models import AccountType, Order, Refund, RefundStatus
from kirakira.privacy.catalog.vocabulary import Retention
from kirakira.privacy.retention.withdrawal import member_withdraw, refund_needed

from .lockout import lockout_response
from .withdraw_forms import (
    CONFIRMATION_MAX_AGE,
    WithdrawConfirmForm,
    WithdrawForm,
    WithdrawRefundForm,
    confirmation_token,
)

# What withdrawal moves to separate storage (the privacy officer's alone), each under its rule
# (kirakira/privacy/retention/withdrawal.py), and what stays where it is until its own period ends.
KEPT_APART = (
    Retention.WITHDRAWN_MEMBER_5Y,
    Retention.CONTRACT_RECORD_5Y,
    Retention.COMPLAINT_RECORD_5Y,
    Retention.CONSULTATION_ANSWERED_1Y,
)
KEPT_IN_PLACE = (Retention.USAGE_LOG_6M,)


def _periods(rules) -> list[dict]:
    return [{"label": rule.label, "period": rule.period_label, "starts": rule.starts} for rule in rules]


@dataclass(frozen=True)
class Summary:
    """What withdrawing would do to the member's orders and money, as the pages show it."""

    orders: list  # (order, what cancelling it refunds), oldest first
    refund_yen: int  # refunded by cancelling them: a bank account is needed when above 0
    due_yen: int  # refunds already due, paid all the same

    @property
    def order_ids(self) -> list[str]:
        return sorted(str(order.pk) for order, _refund in self.orders)


def summary_of(user) -> Summary:
    orders = (
        Order.objects.filter(member=user, status__in=CANCELLABLE)
        .select_related("service")
        .order_by("created_at")
    )
    due = Refund.objects.filter(member=user, status=RefundStatus.DUE)
    return Summary(
        orders=[(order, cancellation_refund(order)) for order in orders],
        refund_yen=refund_needed(user),
        due_yen=due.aggregate(total=Sum("amount_yen"))["total"] or 0,
    )


def _refused(request, message: str, status: int):
    return render(request, "common/error.html", {"title": _("Withdrawal"), "message": message}, status=status)


def _staff_refused(request):
    # The service's own message (the same msgid): staff are not asked for a password in vain.
    return _refused(request, _("Staff accounts are closed by the administrator, not withdrawn."), 403)


def _first_step(request, *, form=None, refund_form=None, summary=None, problem=None, status=200):
    summary = summary or summary_of(request.user)
    if summary.refund_yen and refund_form is None:
        refund_form = WithdrawRefundForm()
    context = {
        "form": form or WithdrawForm(request=request),
        "refund_form": refund_form if summary.refund_yen else None,
        "summary": summary,
        "kept_apart": _periods(KEPT_APART),
        "kept_in_place": _periods(KEPT_IN_PLACE),
        "problem": problem,
    }
    return render(request, "accounts/withdraw.html", context, status=status)


class WithdrawView(LoginRequiredMixin, View):
    """The first step: what happens, the password, and the refund account if one is needed."""

    def get(self, request):
        if request.user.is_staff:
            return _staff_refused(request)
        return _first_step(request)

    def post(self, request):
        if request.user.is_staff:
            return _staff_refused(request)
        summary = summary_of(request.user)
        form = WithdrawForm(request.POST, request=request)
        password_checked = form.is_valid()
        if form.locked_out:
            return lockout_response(request)
        refund_form, account = None, None
        if summary.refund_yen:
            refund_form = WithdrawRefundForm(request.POST)
            if refund_form.is_valid():
                account = refund_form.refund_account()
        if not password_checked or (refund_form is not None and account is None):
            return _first_step(request, form=form, refund_form=refund_form, summary=summary, status=400)
        token = confirmation_token(
            user=request.user,
            checked_hash=form.checked_hash,
            order_ids=summary.order_ids,
            refund_yen=summary.refund_yen,
            refund_account=account,
        )
        context = {
            "summary": summary,
            "refund_account": account,
            "account_type": AccountType(account["account_type"]).label if account else "",
            "confirm_form": WithdrawConfirmForm(initial={"token": token}),
            "minutes": CONFIRMATION_MAX_AGE // 60,
        }
        return render(request, "accounts/withdraw_confirm.html", context)


class WithdrawConfirmView(View):
    """The second step. Not behind the login redirect alone: a second send of the button, after
    the first has withdrawn the member and ended their session, is told so."""

    def get(self, request):
        return redirect("accounts:withdraw")

    def post(self, request):
        form = WithdrawConfirmForm(request.POST)
        payload = form.cleaned_data["token"] if form.is_valid() else None
        user = request.user
        if not user.is_authenticated:
            if payload is not None and _withdrawn(payload["user"]):
                return _refused(request, _("This membership has already been withdrawn."), 409)
            return redirect_to_login(reverse("accounts:withdraw"))
        if user.is_staff:
            return _staff_refused(request)
        if payload is None or payload["user"] != str(user.pk):
            return _first_step(
                request,
                problem=_("This confirmation has expired. Please enter your password again."),
                status=400,
            )
        if not form.hash_matches(payload, user):
            # The service's own message: the password changed after the first step checked it.
            return _first_step(
                request,
                problem=_("Your account changed while you were withdrawing. Please start again."),
                status=409,
            )
        summary = summary_of(user)
        if summary.order_ids != payload["orders"] or summary.refund_yen != payload["refund_yen"]:
            return _first_step(
                request,
                summary=summary,
                problem=_(
                    "Your orders have changed since you confirmed. Please check them and confirm again."
                ),
                status=409,
            )
        try:
            member_withdraw(user=user, checked_hash=user.password, refund_account=payload["refund_account"])
        except ValidationError as exc:
            return self._answer_refusal(request, exc)
        logout(request)
        return redirect("accounts:withdraw_done")

    @staticmethod
    def _answer_refusal(request, exc: ValidationError):
        code = getattr(exc, "code", None)
        if code == "already_withdrawn":
            logout(request)
            return _refused(request, exc.messages[0], 409)
        if code == "staff":
            return _refused(request, exc.messages[0], 403)
        # "stale", or a refund account the service wants (its errors above the form).
        return _first_step(request, problem=" ".join(exc.messages), status=409 if code == "stale" else 400)


def _withdrawn(user_id: str) -> bool:
    return get_user_model()._base_manager.filter(pk=user_id, withdrawn_at__isnull=False).exists()


class WithdrawDoneView(TemplateView):
    """Public (the member is logged out by now) and the same for everyone: nothing in it is
    anyone's."""

    template_name = "accounts/withdraw_done.html"
