from django import forms
from django.utils.translation import gettext_lazy as _


class CodeForm(forms.Form):
    """A second-factor code: the authenticator app's six digits or a backup code."""

    # Named so that axes never copies it into a failure record (AXES_SENSITIVE_PARAMETERS).
    otp_token = forms.CharField(
        label=_("Code"),
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false", "size": 14}
        ),
    )


class PledgeAcceptForm(forms.Form):
    # The version the page showed: accepting never reaches a newer one the reader has not seen.
    number = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
