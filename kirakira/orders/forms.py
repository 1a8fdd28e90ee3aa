from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from kirakira.common.forms import apply_service_errors

from . import services
from .models import NOTE_MAX


class _ServiceCheckedChoiceField(forms.ChoiceField):
    """A choice rendered from the service's platforms but checked by ``order_place``, so that an
    unknown platform gets the same message on the page as through the API."""

    def valid_value(self, value):
        return True


class OrderForm(forms.Form):
    # Every field is optional here and no length is limited: the service checks them all, after
    # normalising, so that the messages name the real rules and limits.
    platform = _ServiceCheckedChoiceField(label=_("SNS platform"), required=False)
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
        platforms = list(services.platforms_of(service))
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
        """The placed order, or None with the service's errors on the form."""
        data = self.cleaned_data
        try:
            return services.order_place(
                member=member,
                service=service,
                platform=data["platform"],
                sns_account_id=data["sns_account_id"],
                photo_links=data.get("photo_links", ""),
                note=data["note"],
                phone=data["phone"],
            )
        except ValidationError as exc:
            apply_service_errors(self, exc)
            return None
