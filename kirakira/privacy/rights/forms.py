"""The member's request forms: what they ask for, then the identity check (password and the
mailed code) on the same page. The service checks everything again; these forms only shape the
input and show its errors in the page's language."""

from django import forms
from django.conf import settings
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import correction
from .models import Scope


def _code_help() -> str:
    minutes = settings.IDENTITY_CODE_MINUTES
    return ngettext(
        "The 6-digit code we email you when you press “Email me a code”. It works for %(minutes)d minute.",
        "The 6-digit code we email you when you press “Email me a code”. It works for %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


CODE_HELP = lazy(_code_help, str)()


class IdentityForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    identity_code = forms.CharField(
        label=_("Confirmation code"),
        max_length=6,
        min_length=6,
        help_text=CODE_HELP,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]{6}"}
        ),
    )

    def details(self) -> dict:
        return {}


class ExportRequestForm(IdentityForm):
    pass


def _row_label(row) -> str:
    reference = getattr(row, "reference", None)
    if reference is None:
        parent = getattr(row, "order", None) or getattr(row, "consultation", None)
        reference = getattr(parent, "reference", None) or str(row.pk)[:8]
    return f"{row._meta.verbose_name} {reference}"


def correction_choices(member, limit_per_kind: int = 50) -> list[tuple[str, str]]:
    """(``"label|pk|field"``, what it is) for each field of the member's records that can be
    corrected by request: the latest ``limit_per_kind`` records of each kind."""
    choices = []
    for label, (declaration, fields) in sorted(correction.correctable().items()):
        model = declaration.model
        ordering = [f"-{model._meta.get_latest_by}"] if model._meta.get_latest_by else ["-pk"]
        rows = model._base_manager.filter(**{declaration.subject: member.pk}).order_by(*ordering)[
            :limit_per_kind
        ]
        for row in rows:
            for name in fields:
                if correction.self_service(row, name):
                    continue
                field_label = model._meta.get_field(name).verbose_name
                choices.append((f"{label}|{row.pk}|{name}", f"{_row_label(row)} — {field_label}"))
    return choices


class CorrectionRequestForm(IdentityForm):
    what = forms.ChoiceField(label=_("What is wrong"), choices=())
    wrong_value = forms.CharField(
        label=_("What it says now, and what is wrong with it"),
        max_length=correction.VALUE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    right_value = forms.CharField(
        label=_("What it should say"),
        max_length=correction.VALUE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    field_order = ["what", "wrong_value", "right_value", "password", "identity_code"]

    def __init__(self, *args, member, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["what"].choices = [("", _("Choose the record and its field"))] + correction_choices(
            member
        )

    def details(self) -> dict:
        target, target_id, target_field = self.cleaned_data["what"].split("|", 2)
        return {
            "target": target,
            "target_id": target_id,
            "target_field": target_field,
            "wrong_value": self.cleaned_data["wrong_value"],
            "right_value": self.cleaned_data["right_value"],
        }


class DeletionRequestForm(IdentityForm):
    entries = forms.MultipleChoiceField(
        label=_("The data to delete"), widget=forms.CheckboxSelectMultiple, choices=()
    )
    field_order = ["entries", "password", "identity_code"]

    def __init__(self, *args, member, **kwargs):
        from .deletion import deletable_entries

        super().__init__(*args, **kwargs)
        self.fields["entries"].choices = deletable_entries(member)

    def details(self) -> dict:
        return {"entries": self.cleaned_data["entries"]}


class RestrictionRequestForm(IdentityForm):
    scope = forms.ChoiceField(label=_("What to stop"), choices=Scope.choices, widget=forms.RadioSelect)
    field_order = ["scope", "password", "identity_code"]

    def details(self) -> dict:
        return {"scope": self.cleaned_data["scope"]}
