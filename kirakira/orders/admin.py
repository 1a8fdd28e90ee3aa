from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kirakira.privacy.catalog.admin import CatalogMaskingAdminMixin

from .lifecycle import clean_payment_input, order_advance, paid_total, payment_record, payment_reverse
from .models import Order, Payment, Service, SnsPlatform


@admin.register(SnsPlatform)
class SnsPlatformAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "account_id_pattern", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")

    def has_delete_permission(self, request, obj=None):
        return False  # orders refer to platforms; deactivate instead


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name_ja", "price_yen", "photo_link_count", "sort_order", "is_active")
    list_filter = ("is_active", "platforms")
    list_editable = ("sort_order", "is_active")
    filter_horizontal = ("platforms",)
    search_fields = ("name_ja", "name_en", "name_ko")
    fieldsets = (
        (None, {"fields": ("price_yen", "platforms", "photo_link_count", "sort_order", "is_active")}),
        ("日本語", {"fields": ("name_ja", "description_ja")}),
        ("English", {"fields": ("name_en", "description_en")}),
        ("한국어", {"fields": ("name_ko", "description_ko")}),
    )

    def has_delete_permission(self, request, obj=None):
        return False  # orders refer to services; take one off sale instead


@admin.register(Order)
class OrderAdmin(CatalogMaskingAdminMixin, admin.ModelAdmin):
    """Customer service's and accounting's view of orders: personal fields as the catalog
    allows each role (the phone masked, for instance), work steps as actions, no editing."""

    list_display = ("reference", "service", "price_yen", "status", "created_at")
    list_filter = ("status", "service")
    search_fields = ("reference",)
    list_select_related = ("service",)
    ordering = ("-created_at",)
    actions = ["start_work", "complete_work"]
    fieldsets = (
        (None, {"fields": ("reference", "status", "service", "price_yen", "paid", "created_at")}),
        (_("Order information"), {"fields": ("platform", "sns_account_id", "photo_links", "note", "phone")}),
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
    )

    @admin.display(description=_("received so far"))
    def paid(self, obj):
        return paid_total(obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_work_permission(self, request):
        return request.user.has_perm("orders.work_on_order")

    def _advance(self, request, queryset, step):
        for order in queryset:
            try:
                order_advance(order_id=order.pk, step=step, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{order.reference}: {' '.join(exc.messages)}", messages.WARNING)
            else:
                self.message_user(request, _("%(reference)s: done.") % {"reference": order.reference})

    @admin.action(description=_("Start the work"), permissions=["work"])
    def start_work(self, request, queryset):
        self._advance(request, queryset, "start")

    @admin.action(description=_("Mark the work completed"), permissions=["work"])
    def complete_work(self, request, queryset):
        self._advance(request, queryset, "complete")


class PaymentForm(forms.ModelForm):
    reference = forms.CharField(label=_("payment reference"), max_length=12)

    class Meta:
        model = Payment
        fields = ["amount_yen", "received_on", "payer_name"]

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
        reference = self.cleaned_data["reference"].strip().upper()
        order = Order.objects.filter(reference=reference).first()
        if order is None:
            raise ValidationError(_("No order has this payment reference."))
        self.order = order
        return reference


@admin.register(Payment)
class PaymentAdmin(CatalogMaskingAdminMixin, admin.ModelAdmin):
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
