from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from kirakira.common.forms import ServiceCheckedChoiceField, apply_service_errors

from . import idempotency, lifecycle, selectors, services
from .models import NOTE_MAX, AccountType


class OneTimeForm(forms.Form):
    """A form that does its write once, however often it is sent: a hidden token is drawn when
    the form is shown and spent in the write's transaction (``kirakira.orders.idempotency``).
    A second send of the same form — a double click, a reload, the back button — finds the
    token spent and shows what the first did. A send without a valid token (a page from before
    tokens, a tampered field) is refused and the form comes back with a fresh one."""

    submission = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["submission"].initial = idempotency.new_form_token()

    def clean(self):
        cleaned = super().clean()
        if "submission" in self.fields and not idempotency.is_valid_key(cleaned.get("submission")):
            self.renew_submission()
            raise ValidationError(
                _("This form has expired. Please check it and send it again."), code="expired"
            )
        return cleaned

    def renew_submission(self):
        """Show the form again with a fresh token (the one sent cannot be used)."""
        data = self.data.copy()
        data[self.add_prefix("submission")] = self.fields["submission"].initial
        self.data = data

    def _refused_token(self, exc: ValidationError) -> bool:
        """Put a refused token's error on the form; False for any other error."""
        if getattr(exc, "code", None) not in ("key_reused", "key_invalid"):
            return False
        self.renew_submission()
        self.add_error(None, _("This form has expired. Please check it and send it again."))
        return True


class OrderForm(OneTimeForm):
    # Every field is optional here and no length is limited: the service checks them all, after
    # normalising, so that the messages name the real rules and limits.
    platform = ServiceCheckedChoiceField(label=_("SNS platform"), required=False)
    sns_account_id = forms.CharField(
        label=_("SNS account ID"),
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false", "maxlength": 100}
        ),
    )
    photo_links = forms.CharField(
        label=_("Photo links"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 4, "autocapitalize": "none", "spellcheck": "false", "inputmode": "url"}
        ),
    )
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    phone = forms.CharField(
        label=_("Phone number"),
        required=False,
        help_text=_("So that the studio can reach you about this order."),
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel", "maxlength": 30}
        ),
    )

    def __init__(self, *args, service, **kwargs):
        super().__init__(*args, **kwargs)
        self.service = service
        platforms = list(selectors.platforms_of(service))
        field = self.fields["platform"]
        field.choices = [("", "---------"), *((p.code, p.name) for p in platforms)]
        if len(platforms) == 1:
            field.initial = platforms[0].code
        field.help_text = format_html(
            "{}<br>{}",
            _("The account ID is the name after the @, following the platform's rules:"),
            format_html_join(mark_safe("<br>"), "{}: {}", ((p.name, p.account_id_rule()) for p in platforms)),
        )
        self.fields["note"].help_text = _("Anything the studio should know, up to %(max)d characters.") % {
            "max": NOTE_MAX
        }
        if service.photo_link_count:
            self.fields["photo_links"].help_text = ngettext(
                "One https:// link per line, up to %(count)d link.",
                "One https:// link per line, up to %(count)d links.",
                service.photo_link_count,
            ) % {"count": service.photo_link_count}
        else:
            del self.fields["photo_links"]

    def clean_note(self):
        # Browsers send a textarea's line breaks as CRLF; count each as one character, as the
        # member sees it (and as the API's clients send it).
        return self.cleaned_data["note"].replace("\r\n", "\n")

    def place(self, member, service):
        """``(order, replayed)``: the order placed now, or the one this same form placed
        before; None with the service's errors on the form."""
        data = self.cleaned_data
        try:
            return idempotency.order_place_once(
                member=member,
                scope=idempotency.Scope.ORDER_FORM,
                key=data["submission"],
                request=idempotency.form_request(service),
                service=service,
                platform=data["platform"],
                sns_account_id=data["sns_account_id"],
                photo_links=data.get("photo_links", ""),
                note=data["note"],
                phone=data["phone"],
            )
        except ValidationError as exc:
            if not self._refused_token(exc):
                apply_service_errors(self, exc)
            return None


class CancelForm(OneTimeForm):
    """A member cancels their order; the refund account is asked for only when money was paid.
    Fields are optional here: ``lifecycle.order_cancel`` checks them all, as for the API."""

    reason = forms.CharField(
        label=_("Why are you cancelling?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": NOTE_MAX}),
    )
    bank_name = forms.CharField(
        label=_("Bank name"), required=False, widget=forms.TextInput(attrs={"maxlength": 50})
    )
    branch = forms.CharField(
        label=_("Branch"), required=False, widget=forms.TextInput(attrs={"maxlength": 50})
    )
    # A select, checked by the service (so an unknown value gets the same message as in the API).
    account_type = forms.CharField(
        label=_("Account type"), required=False, widget=forms.Select(choices=AccountType.choices)
    )
    account_number = forms.CharField(
        label=_("Account number"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "maxlength": 20}),
    )
    account_holder = forms.CharField(
        label=_("Account holder"),
        required=False,
        help_text=_("In katakana or Latin letters, exactly as the bank has it."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": 100}),
    )

    REFUND_FIELDS = ("bank_name", "branch", "account_type", "account_number", "account_holder")

    def __init__(self, *args, refund_due: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.refund_due = refund_due
        if not refund_due:
            for name in self.REFUND_FIELDS:
                del self.fields[name]

    def refund_fields(self):
        return [self[name] for name in self.REFUND_FIELDS if name in self.fields]

    def cancel(self, order, member):
        """``(cancellation, replayed)``: the cancellation made now, or the one this same form
        made before; None with the service's errors on the form."""
        data = self.cleaned_data
        refund_account = {name: data[name] for name in self.REFUND_FIELDS if name in data} or None
        try:
            return idempotency.order_cancel_once(
                order_id=order.pk,
                member=member,
                key=data["submission"],
                reason=data["reason"].replace("\r\n", "\n"),
                refund_account=refund_account,
            )
        except ValidationError as exc:
            if not self._refused_token(exc):
                apply_service_errors(self, exc)
            return None


class RefundAccountForm(CancelForm):
    """Where to refund what a member paid beyond the price (the order itself goes on)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, refund_due=True, **kwargs)
        # A second send finds nothing left to refund and says so: no token needed.
        del self.fields["reason"]
        del self.fields["submission"]

    def request_refund(self, order, member):
        """The refund, or None with the service's errors on the form."""
        data = self.cleaned_data
        try:
            return lifecycle.overpayment_refund_request(
                order_id=order.pk,
                member=member,
                refund_account={name: data[name] for name in self.REFUND_FIELDS},
            )
        except ValidationError as exc:
            apply_service_errors(self, exc)
            return None


class PhoneChangeForm(forms.Form):
    """The member changes the phone number of an open order. Checked by the service, with the
    order form's rules and messages."""

    phone = forms.CharField(
        label=_("New phone number"),
        required=False,
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel", "maxlength": 30}
        ),
    )

    def change(self, order, member):
        """The order, or None with the service's errors on the form."""
        try:
            return services.order_phone_change(
                order_id=order.pk, member=member, phone=self.cleaned_data["phone"]
            )
        except ValidationError as exc:
            apply_service_errors(self, exc)
            return None


class RefundAccountChangeForm(RefundAccountForm):
    """The member changes the bank account of their order's refunds still to be paid. Shown
    filled with the account given, so that one mistake is corrected without typing the rest
    again; prefixed, as the cancel and overpayment forms on the same page have the same fields."""

    prefix = "account"

    def change(self, order, member):
        """The refunds still to be paid, or None with the service's errors on the form."""
        data = self.cleaned_data
        try:
            return services.refund_account_change(
                order_id=order.pk,
                member=member,
                refund_account={name: data[name] for name in self.REFUND_FIELDS},
            )
        except ValidationError as exc:
            apply_service_errors(self, exc)
            return None
