"""Statements the software cannot verify, made by the operator.

Training, a signed pledge, antivirus on the studio's computers, a firewall: nothing in Kirakira
can see whether these are true, so the policy page states one only when the operator names it in
``PRIVACY_OPERATOR_STATEMENTS`` (comma-separated codes below). The default names none, so a new
installation claims nothing it has not been told. ``manage.py check`` lists the written policy's
promises that rest on a statement not given (``promises.py``), and refuses an unknown code.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _

TECHNICAL, ADMINISTRATIVE, GENERAL = "technical", "administrative", "general"

# code -> (where on the page, the statement)
STATEMENTS = {
    "legal_compliance": (
        GENERAL,
        _(
            "We comply with the laws and regulations that providers of information and communications "
            "services must observe, including the Act on Promotion of Information and Communications Network "
            "Utilization and Information Protection and the Personal Information Protection Act."
        ),
    ),
    "antivirus": (
        TECHNICAL,
        _(
            "The computers our staff use to handle personal information run antivirus programs, which are "
            "updated regularly and applied at once when a new virus appears."
        ),
    ),
    "intrusion_prevention": (
        TECHNICAL,
        _("Intrusion prevention systems protect our servers against hacking and other attacks from outside."),
    ),
    "vulnerability_scanning": (
        TECHNICAL,
        _("Our servers are checked regularly for vulnerabilities."),
    ),
    "staff_training": (
        ADMINISTRATIVE,
        _(
            "Staff who handle personal information receive regular training, in-house and external, on new "
            "security techniques and on their duty to protect personal information."
        ),
    ),
    "secure_handover": (
        ADMINISTRATIVE,
        _(
            "Handover of work by staff who handle personal information is carried out thoroughly with security "
            "maintained, and responsibility for personal-information incidents after joining and after leaving "
            "is made clear."
        ),
    ),
    "incident_compensation": (
        ADMINISTRATIVE,
        _(
            "If personal information is lost, leaked, altered or damaged through an error of our staff or an "
            "accident in technical management, we take appropriate measures and compensate. We are not "
            "responsible, however, where it results from the customer's own error or from the basic risks of "
            "the internet."
        ),
    ),
}


def given() -> list[str]:
    """The codes the operator has stated, in the order of ``STATEMENTS`` (unknown codes left out;
    ``manage.py check`` reports them)."""
    named = set(settings.PRIVACY_OPERATOR_STATEMENTS)
    return [code for code in STATEMENTS if code in named]


# A statement the software has come to keep itself: while the capability is provided, the page
# states what the software does (data-capability) and the operator's own words would only repeat
# it, so they are left out; without the capability the operator's statement is shown again.
SUPERSEDED_BY = {"secure_handover": "staff_offboarding"}


def statements(where: str) -> list[tuple[str, str]]:
    """(code, text) of the given statements for one part of the page."""
    from .capabilities import provided

    return [
        (code, str(STATEMENTS[code][1]))
        for code in given()
        if STATEMENTS[code][0] == where and not (code in SUPERSEDED_BY and provided(SUPERSEDED_BY[code]))
    ]
