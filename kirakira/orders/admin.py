import unicodedata

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kirakira.common import clock
from kirakira.common.admin_base import ViewOnlyAdmin, YenAmountsAdminMixin, yen_text
from kirakira.privacy.audit.reveal import REASON_MAX, may_reveal, reveal
from kirakira.privacy.catalog.admin import CatalogMaskingAdminMixin
from kirakira.privacy.rights import freeze, work_queue

from .lifecycle import (
    clean_payment_input,
    order_advance,
    paid_total,
    payment_record,
    payment_reverse,
    refund_mark_paid,
)
from .models import Cancellation, Order, Payment, Refund, RefundStatus, Service, SnsPlatform
from .progress import clean_delivery_note


@admin.register(SnsPlatform)
class SnsPlatformAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "account_id_pattern", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")

    def has_delete_permission(self, request, obj=None):
        return False  # orders refer to platforms; deactivate instead


@admin.register(Service)
class ServiceAdmin(YenAmountsAdminMixin, admin.ModelAdmin):
    list_display = ("name_ja", "price_yen", "photo_link_count", "sort_order", "is_active")
    list_filter = ("is_active", "platforms")
    list_editable = ("sort_order", "is_active")
    filter_horizontal = ("platforms",)
    search_fields = ("name_ja", "name_en", "name_ko")
    fieldsets = (
        (None, {"fields": ("price_yen", "platforms", "photo_link_count", "work_days", "sort_order", "is_active")}),
        ("日本語", {"fields": ("name_ja", "description_ja")}),
        ("English", {"fields": ("name_en", "description_en")}),
        ("한국어", {"fields": ("name_ko", "description_ko")}),
    )

    def has_delete_permission(self, request, obj=None):
        return False  # orders refer to services; take one off sale instead


# What the work on an order uses: while one is under correction, the work waits (policy C7).
WORK_USES = ("sns_account_id", "photo_links")


@admin.register(Order)
class OrderAdmin(YenAmountsAdminMixin, CatalogMaskingAdminMixin, ViewOnlyAdmin):
    """Customer service's and accounting's view of orders: personal fields as the catalog
    allows each role (the phone masked, for instance), work steps as actions, no editing."""

    list_display = ("reference", "service", "price_yen", "status", "created_at", "processing_stopped")
    list_filter = ("status", "service", work_queue.stopped_filter())
    search_fields = ("reference",)
    list_select_related = ("service",)
    ordering = ("-created_at",)
    actions = ["start_work", "complete_work"]
    processing_stopped = staticmethod(work_queue.stopped_column())
    fieldsets = (
        (None, {"fields": ("reference", "status", "service", "price_yen", "paid", "created_at")}),
        (_("Order information"), {"fields": ("platform", "sns_account_id", "photo_links", "note", "phone")}),
        (_("Delivery"), {"fields": ("delivery_note",)}),
    )
    readonly_fields = (
        "reference",
        "status",
        "service",
        "price_yen",
        "paid",
        "created_at",
        "platform",
        "sns_account_id",
        "photo_links",
        "note",
        "phone",
        "delivery_note",
    )

    @admin.display(description=_("received so far"))
    def paid(self, obj):
        # The total would show a payment amount under correction (policy C7): it waits too.
        frozen = freeze.frozen_map("orders.Payment", obj.payments.values_list("pk", flat=True))
        if any("amount_yen" in fields for fields in frozen.values()):
            return freeze.FROZEN
        return yen_text(paid_total(obj))

    def get_queryset(self, request):
        return work_queue.with_stopped(super().get_queryset(request))

    def has_work_permission(self, request):
        return request.user.has_perm("orders.work_on_order")

    def _advance(self, request, queryset, step, notes=None):
        # A member who stopped all processing: their orders are not worked on (policy C7). Nor is
        # an order whose SNS account or photos are under correction: the work would use them.
        stopped = work_queue.stopped_pks(queryset)
        orders = list(queryset)
        freeze.annotate(orders)
        for order in orders:
            if order.pk in stopped:
                work_queue.refuse(request, order, order.member_id)
                self.message_user(request, work_queue.refusal_message(order.reference), messages.ERROR)
                continue
            try:
                for field in WORK_USES:
                    freeze.refuse_use(order, field, request=request)
            except freeze.FieldFrozen:
                self.message_user(
                    request,
                    _(
                        "%(reference)s: the member has asked for the order's information to be corrected; "
                        "the work waits until the correction is done."
                    )
                    % {"reference": order.reference},
                    messages.ERROR,
                )
                continue
            try:
                order_advance(
                    order_id=order.pk,
                    step=step,
                    actor=request.user,
                    delivery_note=(notes or {}).get(order.pk, ""),
                )
            except ValidationError as exc:
                self.message_user(request, f"{order.reference}: {' '.join(exc.messages)}", messages.WARNING)
            else:
                done = (
                    _("%(reference)s: the work has started.")
                    if step == "start"
                    else _("%(reference)s: the work is completed.")
                )
                self.message_user(request, done % {"reference": order.reference})

    @admin.action(description=_("Start the work"), permissions=["work"])
    def start_work(self, request, queryset):
        self._advance(request, queryset, "start")

    @admin.action(description=_("Mark the work completed"), permissions=["work"])
    def complete_work(self, request, queryset):
        # What was delivered is written for each order first, on a page between the list and the
        # step (as Django's delete confirmation): the member reads it on the order page, in the
        # completion email and in the API (kirakira/orders/progress.py).
        orders = list(queryset.select_related("service").order_by("created_at"))
        applying = "apply" in request.POST
        notes = {
            order.pk: DeliveryNoteForm(request.POST if applying else None, prefix=f"order-{order.pk}")
            for order in orders
        }
        if applying and all(form.is_valid() for form in notes.values()):
            self._advance(
                request, queryset, "complete", {pk: form.cleaned_data["delivery_note"] for pk, form in notes.items()}
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Mark the work completed"),
            "opts": self.opts,
            "rows": [(order, notes[order.pk]) for order in orders],
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/orders/order/complete_work.html", context)


class DeliveryNoteForm(forms.Form):
    """What was delivered for one order, required when the work is completed here."""

    delivery_note = forms.CharField(
        label=_("What was delivered"),
        help_text=_("Shown to the member on the order page, in the email and in the API: a note, or links to the results."),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        error_messages={"required": _("Write what was delivered.")},
    )

    def clean_delivery_note(self):
        try:
            return clean_delivery_note(self.cleaned_data["delivery_note"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["delivery_note"]) from None


class PaymentForm(forms.ModelForm):
    reference = forms.CharField(label=_("payment reference"), max_length=12)

    class Meta:
        model = Payment
        fields = ["amount_yen", "received_on", "payer_name"]
        # One line, as on the bank statement (the model's text field would draw a 10-row box).
        widgets = {"payer_name": forms.TextInput(attrs={"size": 40})}

    def clean(self):
        cleaned = super().clean()
        if {"amount_yen", "received_on", "payer_name"} <= set(cleaned):
            try:
                clean_payment_input(cleaned["amount_yen"], cleaned["received_on"], cleaned["payer_name"])
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    self.add_error(field, errors)
        return cleaned

    def clean_reference(self):
        # As typed from a statement, full-width characters included (ＫＡ２Ｂ… is KA2B…).
        reference = unicodedata.normalize("NFKC", self.cleaned_data["reference"]).strip().upper()
        order = Order.objects.filter(reference=reference).first()
        if order is None:
            raise ValidationError(_("No order has this payment reference."))
        self.order = order
        return reference


@admin.register(Payment)
class PaymentAdmin(YenAmountsAdminMixin, CatalogMaskingAdminMixin, admin.ModelAdmin):
    """Accounting records received transfers here; records are never edited or deleted, a
    mistake is corrected with the 'reverse' action."""

    form = PaymentForm
    list_display = ("order", "amount_yen", "received_on", "recorded_at", "reverses")
    list_select_related = ("order", "reverses")
    search_fields = ("order__reference",)
    ordering = ("-recorded_at",)
    actions = ["reverse"]
    readonly_fields = ("order", "amount_yen", "received_on", "reverses", "recorded_by", "recorded_at")

    fieldsets = [
        (
            None,
            {
                "fields": [
                    "order",
                    "amount_yen",
                    "received_on",
                    "payer_name",
                    "reverses",
                    "recorded_by",
                    "recorded_at",
                ]
            },
        )
    ]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["reference", "amount_yen", "received_on", "payer_name"]})]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return super().get_readonly_fields(request, obj) if obj is not None else ()

    def has_add_permission(self, request):
        return request.user.has_perm("orders.record_payment")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_record_permission(self, request):
        return request.user.has_perm("orders.record_payment")

    def save_model(self, request, obj, form, change):
        try:
            payment = payment_record(
                order_id=form.order.pk,
                amount_yen=form.cleaned_data["amount_yen"],
                received_on=form.cleaned_data["received_on"],
                payer_name=form.cleaned_data["payer_name"],
                actor=request.user,
            )
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            raise
        # The admin logs and redirects using the object it built; make it the recorded one.
        obj.pk, obj.order, obj.member_id, obj.recorded_by = (
            payment.pk,
            payment.order,
            payment.member_id,
            request.user,
        )

    @admin.action(description=_("Reverse the selected payments"), permissions=["record"])
    def reverse(self, request, queryset):
        for payment in queryset:
            try:
                payment_reverse(payment_id=payment.pk, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.WARNING)
            else:
                self.message_user(request, _("The payment is reversed by a new record."))


class RevealForm(forms.Form):
    # Checked by ``reveal`` itself (its length rule is the one that counts), so not required here.
    reason = forms.CharField(
        label=_("Why do you need to see the account number?"),
        max_length=REASON_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


class RefundMarkPaidForm(forms.Form):
    paid_on = forms.DateField(label=_("paid on"), widget=forms.DateInput(attrs={"type": "date"}))
    amount_yen = forms.IntegerField(label=_("amount paid (yen)"))

    # The lifecycle's errors name the date "received_on" (it shares the check with payments).
    FIELD_OF_ERROR = {"received_on": "paid_on", "paid_on": "paid_on", "amount_yen": "amount_yen"}

    def add_lifecycle_error(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                self.add_error(self.FIELD_OF_ERROR.get(field), errors)
        else:
            self.add_error(None, exc.messages)


@admin.register(Refund)
class RefundAdmin(YenAmountsAdminMixin, CatalogMaskingAdminMixin, ViewOnlyAdmin):
    """Accounting's refund queue: the bank account as the catalog allows (the number masked),
    revealed in full with a reason on a page of its own, and the payment marked done there."""

    list_display = ("order", "amount_yen", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("order__reference",)
    list_select_related = ("order",)
    ordering = ("created_at",)
    fieldsets = (
        (None, {"fields": ("order", "status", "amount_yen", "created_at")}),
        (
            _("Bank account"),
            {"fields": ("bank_name", "branch", "account_type", "account_number", "account_holder")},
        ),
        (_("Payment of the refund"), {"fields": ("paid_on", "paid_amount_yen", "paid_by")}),
    )
    readonly_fields = (
        "order",
        "status",
        "amount_yen",
        "created_at",
        "bank_name",
        "branch",
        "account_type",
        "account_number",
        "account_holder",
        "paid_on",
        "paid_amount_yen",
        "paid_by",
    )

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<uuid:object_id>/reveal/",
                self.admin_site.admin_view(self.reveal_view),
                name="{}_{}_reveal".format(*info),
            ),
            path(
                "<uuid:object_id>/mark-paid/",
                self.admin_site.admin_view(self.mark_paid_view),
                name="{}_{}_mark_paid".format(*info),
            ),
            *super().get_urls(),
        ]

    def has_mark_paid_permission(self, request, obj=None):
        return request.user.has_perm("orders.record_payment") and (
            obj is None or obj.status == RefundStatus.DUE
        )

    def _url(self, name, refund):
        return reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_{name}", args=[refund.pk]
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        refund = self.get_object(request, object_id)
        extra_context = dict(extra_context or {})
        if refund is not None and self.has_view_permission(request, refund):
            if may_reveal(request.user, Refund, "account_number") and not freeze.is_frozen(
                refund, field="account_number"
            ):
                extra_context["reveal_url"] = self._url("reveal", refund)
            if self.has_mark_paid_permission(request, refund):
                extra_context["mark_paid_url"] = self._url("mark_paid", refund)
        return super().change_view(request, object_id, form_url, extra_context)

    def _refund_or_403(self, request, object_id) -> Refund:
        refund = get_object_or_404(Refund, pk=object_id)
        if not self.has_view_permission(request, refund):
            raise PermissionDenied
        return refund

    def _render(self, request, refund, template, title, **context):
        return TemplateResponse(
            request,
            f"admin/orders/refund/{template}",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": refund,
                "title": title,
                "change_url": self._url("change", refund),
                **context,
            },
        )

    def reveal_view(self, request, object_id):
        """The full account number, on this response only (never in a URL or a message)."""
        refund = self._refund_or_403(request, object_id)
        if not may_reveal(request.user, Refund, "account_number"):
            raise PermissionDenied
        revealed = None
        form = RevealForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                revealed = reveal(
                    actor=request.user,
                    instance=refund,
                    field_name="account_number",
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
            except ValidationError as exc:
                form.add_error("reason", exc.message_dict.get("reason", exc.messages))
            except freeze.FieldFrozen:
                form.add_error(
                    None,
                    _(
                        "The member has asked for this account number to be corrected: it cannot be used "
                        "until the correction is done."
                    ),
                )
        return self._render(
            request,
            refund,
            "reveal.html",
            _("Reveal the account number"),
            form=form,
            revealed=revealed,
        )

    def mark_paid_view(self, request, object_id):
        refund = self._refund_or_403(request, object_id)
        if not self.has_mark_paid_permission(request):
            raise PermissionDenied
        try:
            freeze.refuse_use(refund, "amount_yen", request=request)
        except freeze.FieldFrozen:
            self.message_user(
                request,
                _(
                    "The member has asked for the amount of this refund to be corrected: it is paid once corrected."
                ),
                messages.ERROR,
            )
            return redirect(self._url("change", refund))
        if request.method == "POST":
            form = RefundMarkPaidForm(request.POST)
            if form.is_valid():
                try:
                    refund = refund_mark_paid(
                        refund_id=refund.pk,
                        paid_on=form.cleaned_data["paid_on"],
                        amount_yen=form.cleaned_data["amount_yen"],
                        actor=request.user,
                    )
                except ValidationError as exc:
                    form.add_lifecycle_error(exc)
                else:
                    self.log_change(request, refund, [{"changed": {"fields": ["status", "paid_on"]}}])
                    self.message_user(request, _("The refund is marked paid."), messages.SUCCESS)
                    return redirect(self._url("change", refund))
        else:
            form = RefundMarkPaidForm(
                initial={"paid_on": timezone.localdate(clock.now()), "amount_yen": refund.amount_yen}
            )
        return self._render(request, refund, "mark_paid.html", _("Mark the refund paid"), form=form)


@admin.register(Cancellation)
class CancellationAdmin(YenAmountsAdminMixin, CatalogMaskingAdminMixin, ViewOnlyAdmin):
    """Cancellations as the member made them; the reason as the catalog allows."""

    list_display = ("order", "status_before", "refund_due_yen", "cancelled_at")
    list_filter = ("status_before",)
    search_fields = ("order__reference",)
    list_select_related = ("order",)
    ordering = ("-cancelled_at",)
    fieldsets = ((None, {"fields": ("order", "status_before", "refund_due_yen", "cancelled_at", "reason")}),)
    readonly_fields = ("order", "status_before", "refund_due_yen", "cancelled_at", "reason")
