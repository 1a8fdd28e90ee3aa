"""Consultation forms. Fields are loose here on purpose: the services check every value, so a
page and the API give the same messages for the same mistake."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kirakira.common.forms import ServiceCheckedChoiceField

from .attachments import MAX_BYTES, MAX_FILES
from .models import BODY_MAX, SUBJECT_MAX, Category


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files; ``attachments.check_files`` decides how many and of what kind."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(
                attrs={"accept": "image/jpeg,image/png,image/gif,image/webp,image/heic,application/pdf"}
            ),
        )
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [f for f in files if f]


def _files_help():
    from django.utils.translation import gettext

    return gettext(
        "Up to %(count)d images (JPEG, PNG, GIF, WebP, HEIC) or PDF files of %(size)d MB each."
    ) % {
        "count": MAX_FILES,
        "size": MAX_BYTES // (1024 * 1024),
    }


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Message"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": BODY_MAX}),
    )
    attachments = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = _files_help()


class ConsultationForm(MessageForm):
    category = forms.ChoiceField(
        label=_("Category"), choices=[("", "---------"), *Category.choices], required=False
    )
    subject = forms.CharField(
        label=_("Subject"), required=False, widget=forms.TextInput(attrs={"maxlength": SUBJECT_MAX})
    )
    order = ServiceCheckedChoiceField(label=_("Order this is about (optional)"), required=False)
    callback_phone = forms.CharField(
        label=_("Phone number for a call back (optional)"),
        required=False,
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel", "maxlength": 30}
        ),
    )

    field_order = ["category", "subject", "order", "body", "attachments", "callback_phone"]

    def __init__(self, *args, orders=(), **kwargs):
        super().__init__(*args, **kwargs)
        if orders:
            self.fields["order"].choices = [
                ("", "---------"),
                *((str(o.pk), f"{o.reference} — {o.service.name}") for o in orders),
            ]

        else:
            del self.fields["order"]

    def clean(self):
        cleaned = super().clean()
        if "order" not in self.fields and self.data.get("order"):
            # No order to choose from, yet one was sent: the service refuses it rather than
            # the consultation being stored without it.
            cleaned["order"] = self.data.get("order")
        return cleaned


class VisitorConsultationForm(ConsultationForm):
    name = forms.CharField(
        label=_("Name"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name", "maxlength": 100}),
    )
    email = forms.CharField(
        label=_("Email address"),
        required=False,
        help_text=_("We send a link to this address; your consultation reaches our staff once you open it."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "maxlength": 254}),
    )

    field_order = ["name", "email", *ConsultationForm.field_order]
