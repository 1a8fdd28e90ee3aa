import csv
import io

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from kirakira.common import clock
from kirakira.privacy.catalog.masking import mask_value
from kirakira.privacy.catalog.vocabulary import Mask

from . import bank, progress, receipts, selectors
from .forms import CancelForm, OrderForm, PhoneChangeForm, RefundAccountChangeForm, RefundAccountForm
from .lifecycle import CANCELLABLE, cancellation_refund, excess_due, paid_total
from .models import (
    AccountType,
    OrderEvent,
    OrderStatus,
    Payment,
    ReceiptChannel,
    Refund,
    RefundStatus,
    Service,
)
from .rows import order_rows
from .services import OPEN


class OrderNewView(LoginRequiredMixin, View):
    template_name = "orders/order_form.html"

    def dispatch(self, request, *args, service_id, **kwargs):
        if request.user.is_authenticated:
            self.service = get_object_or_404(Service.objects.active(), pk=service_id)
        return super().dispatch(request, *args, **kwargs)

    def _render(self, request, form, status=200):
        return render(request, self.template_name, {"service": self.service, "form": form}, status=status)

    def get(self, request):
        if not request.user.can_order:
            return self._render(request, None)
        return self._render(request, OrderForm(service=self.service))

    def post(self, request):
        if not request.user.can_order:
            return self._render(request, None, status=403)
        form = OrderForm(request.POST, service=self.service)
        if form.is_valid():
            placed = form.place(request.user, self.service)
            if placed is not None:
                order, replayed = placed
                if replayed:
                    messages.info(
                        request, _("This order form has already been sent: here is the order it placed.")
                    )
                else:
                    messages.success(
                        request,
                        _("Thank you for your order. Please pay by bank transfer as shown below."),
                    )
                return redirect("orders:detail", order_id=order.pk)
        return self._render(request, form, status=400)


# An overpaid order's page carries the overpayment form beside the cancel form, with the same
# fields: prefixed, so that one page never holds two ``id_bank_name`` (a label would focus the
# other form's field).
OVERPAYMENT_PREFIX = "overpayment"


def _render_detail(
    request, order, *, cancel_form=None, refund_form=None, phone_form=None, account_form=None, status=200
):
    awaiting_payment = order.status == OrderStatus.AWAITING_PAYMENT
    paid = paid_total(order)
    refunds = list(Refund.objects.filter(order=order).order_by("created_at", "id"))
    refunded = sum(refund.amount_yen for refund in refunds)
    refund_on_cancel = (
        cancellation_refund(order, paid=paid, refunded=refunded) if order.status in CANCELLABLE else 0
    )
    if cancel_form is None and order.status in CANCELLABLE:
        cancel_form = CancelForm(refund_due=refund_on_cancel > 0)
    excess = excess_due(order, paid=paid, refunded=refunded)
    if refund_form is None and excess > 0:
        refund_form = RefundAccountForm(prefix=OVERPAYMENT_PREFIX)
    if phone_form is None and order.status in OPEN:
        phone_form = PhoneChangeForm()
    # Every refund of the order with its state and the account it goes (or went) to, the number
    # masked as everywhere else: the change form below holds the full account of one still due.
    for refund in refunds:
        refund.account_type_label = (
            AccountType(refund.account_type).label if refund.account_type in AccountType.values else ""
        )
        refund.masked_number = mask_value(refund.account_number, Mask.LAST4)
    due_refunds = [refund for refund in refunds if refund.status == RefundStatus.DUE]
    if account_form is None and due_refunds:
        latest = due_refunds[-1]
        account_form = RefundAccountChangeForm(
            initial={name: getattr(latest, name) for name in RefundAccountChangeForm.REFUND_FIELDS}
        )
    events = list(order.events.all())  # the history, and when the order became paid and started
    context = {
        "order": order,
        "awaiting_payment": awaiting_payment,
        "bank": bank.studio_account() if awaiting_payment else None,
        "events": events,
        "paid_total": paid,
        "refund_on_cancel": refund_on_cancel,
        "cancel_form": cancel_form,
        "refund_form": refund_form if excess > 0 else None,
        "excess": excess,
        "phone_form": phone_form,
        "refunds": refunds,
        "due_refunds": due_refunds,
        "account_form": account_form,
        "receipt": _receipt_context(order),
        "progress": _progress_context(order, events),
    }
    return render(request, "orders/order_detail.html", context, status=status)


def _progress_context(order, events) -> progress.Estimate | None:
    """The estimated completion, or what was delivered (orders/_progress.html); nothing when
    there is nothing to say (a cancelled order)."""
    expected = progress.estimate(order, **progress.step_times(events))
    return expected if (expected.on or expected.business_days or expected.completed_on) else None


def _receipt_context(order) -> dict | None:
    """What the order page's receipt section shows (orders/_receipt.html): the link, or why
    there is none yet; nothing for a cancelled order (no query: the page's count stays flat)."""
    if order.status == OrderStatus.CANCELLED:
        return None
    return {"available": receipts.is_receiptable(order), "reason": receipts.refusal(order) or ""}


class OrderDetailView(LoginRequiredMixin, View):
    def get(self, request, order_id):
        return _render_detail(request, selectors.order_of(request.user, order_id))


class OrderReceiptView(LoginRequiredMixin, View):
    """The member downloads the receipt of one of their paid orders as PDF (anyone else's order
    is 404; one not paid in full, or cancelled, goes back to its page with the reason)."""

    def get(self, request, order_id):
        order = selectors.order_of(request.user, order_id)
        try:
            receipt = receipts.receipt_issue(order_id=order.pk, member=request.user, channel=ReceiptChannel.WEB)
        except ValidationError as exc:
            if getattr(exc, "code", None) == "not_found":
                raise Http404 from None
            messages.error(request, exc.messages[0])
            return redirect("orders:detail", order_id=order.pk)
        return receipts.pdf_response(receipt)


class OrderCancelView(LoginRequiredMixin, View):
    """The member cancels one of their orders (anyone else's is 404)."""

    def post(self, request, order_id):
        order = selectors.order_of(request.user, order_id)
        form = CancelForm(request.POST, refund_due=cancellation_refund(order) > 0)
        if form.is_valid():
            cancelled = form.cancel(order, request.user)
            if cancelled is not None:
                cancellation, replayed = cancelled
                if replayed:
                    messages.info(
                        request, _("This cancel form has already been sent: the order is cancelled.")
                    )
                elif cancellation.refund_due_yen:
                    messages.success(
                        request,
                        _(
                            "Your order has been cancelled. We will transfer the refund of %(amount)s yen to your account."
                        )
                        % {"amount": f"{cancellation.refund_due_yen:,}"},
                    )
                else:
                    messages.success(request, _("Your order has been cancelled."))
                return redirect("orders:detail", order_id=cancellation.order_id)
        order.refresh_from_db()
        return _render_detail(request, order, cancel_form=form, status=400)


class OrderRefundAccountView(LoginRequiredMixin, View):
    """The member gives the account for refunding an overpayment (anyone else's order is 404)."""

    def post(self, request, order_id):
        order = selectors.order_of(request.user, order_id)
        form = RefundAccountForm(request.POST, prefix=OVERPAYMENT_PREFIX)
        if form.is_valid():
            refund = form.request_refund(order, request.user)
            if refund is not None:
                messages.success(
                    request,
                    _("Thank you. We will transfer %(amount)s yen to your account.")
                    % {"amount": f"{refund.amount_yen:,}"},
                )
                return redirect("orders:detail", order_id=order.pk)
        return _render_detail(request, order, refund_form=form, status=400)


class OrderPhoneView(LoginRequiredMixin, View):
    """The member changes the phone number of one of their open orders (anyone else's is 404)."""

    def post(self, request, order_id):
        order = selectors.order_of(request.user, order_id)
        form = PhoneChangeForm(request.POST)
        if form.is_valid() and form.change(order, request.user) is not None:
            messages.success(request, _("The phone number of this order has been changed."))
            return redirect("orders:detail", order_id=order.pk)
        order.refresh_from_db()
        return _render_detail(request, order, phone_form=form, status=400)


class OrderRefundAccountChangeView(LoginRequiredMixin, View):
    """The member changes the bank account of their order's refunds still to be paid (anyone
    else's order is 404)."""

    def post(self, request, order_id):
        order = selectors.order_of(request.user, order_id)
        form = RefundAccountChangeForm(request.POST)
        if form.is_valid() and form.change(order, request.user) is not None:
            messages.success(request, _("The bank account for the refund has been changed."))
            return redirect("orders:detail", order_id=order.pk)
        order.refresh_from_db()
        return _render_detail(request, order, account_form=form, status=400)


class OrderListView(LoginRequiredMixin, ListView):
    template_name = "orders/order_list.html"
    context_object_name = "orders"
    paginate_by = 20

    def get_queryset(self):
        return selectors.order_rows_of(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["orders"] = order_rows(context["orders"])
        return context


def _cell(value: str) -> str:
    """Text a spreadsheet will not run as a formula."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


class StatementView(LoginRequiredMixin, View):
    """The member's orders, payments and refunds as CSV (UTF-8 with a BOM, for Excel): a fixed
    number of queries however many orders."""

    def get(self, request):
        orders = (
            selectors.orders_of(request.user)
            .only("id", "reference", "price_yen", "status", "created_at", "service", "platform")
            .order_by("created_at", "id")
            .prefetch_related(
                Prefetch(
                    "payments",
                    queryset=Payment.objects.only(
                        "id", "order_id", "amount_yen", "received_on", "recorded_at"
                    ),
                ),
                Prefetch(
                    "refunds",
                    queryset=Refund.objects.only(
                        "id", "order_id", "amount_yen", "status", "paid_on", "created_at"
                    ),
                ),
            )
        )
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.writer(buffer)
        writer.writerow(
            [_("Date"), _("Payment reference"), _("Service"), _("Kind"), _("Amount (yen)"), _("Status")]
        )
        for order in orders:
            reference, service = _cell(order.reference), _cell(order.service.name)
            writer.writerow(
                [
                    timezone.localdate(order.created_at).isoformat(),
                    reference,
                    service,
                    OrderEvent.Kind.PLACED.label,
                    order.price_yen,
                    order.get_status_display(),
                ]
            )
            for payment in order.payments.all():
                kind = (
                    OrderEvent.Kind.PAYMENT_RECORDED
                    if payment.amount_yen > 0
                    else OrderEvent.Kind.PAYMENT_REVERSED
                )
                writer.writerow(
                    [payment.received_on.isoformat(), reference, service, kind.label, payment.amount_yen, ""]
                )
            for refund in order.refunds.all():
                day = refund.paid_on or timezone.localdate(refund.created_at)
                writer.writerow(
                    [
                        day.isoformat(),
                        reference,
                        service,
                        _("Refund"),
                        refund.amount_yen,
                        refund.get_status_display(),
                    ]
                )
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        filename = f"kirakira-statement-{timezone.localdate(clock.now()):%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "private, no-store"
        return response
