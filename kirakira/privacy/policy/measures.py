"""The technical and administrative measures the policy page lists (policy: 技術的・管理的対策).

``SOFTWARE`` measures are what Kirakira itself does and are always listed; ``OPERATIONAL``
ones depend on how the studio runs its systems and are listed when named in the
``PRIVACY_SECURITY_MEASURES`` setting, so the page never claims what is not done.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

SOFTWARE_TECHNICAL = {
    "password_hashing": _(
        "Passwords are stored only as one-way hashes (Argon2) and are never readable, even by our staff."
    ),
    "field_encryption": _(
        "Important information (%(items)s) is encrypted with AES-256-GCM under a key of each member's own; "
        "destroying that key makes the information unreadable everywhere, backups included."
    ),
    "transport": _(
        "All communication with the site is encrypted (HTTPS only, with HSTS and secure cookies)."
    ),
    "lockout": _("Logins are blocked for 15 minutes after 5 failed attempts, to stop password guessing."),
}

# Said as it is: scanned only when a virus scanner (ClamAV) is configured.
UPLOADS_SCANNED = _(
    "Files attached to consultations are checked by their content for type and size, scanned for viruses "
    "before they are stored, and stored encrypted."
)
UPLOADS_NOT_SCANNED = _(
    "Files attached to consultations are checked by their content for type and size and stored encrypted; "
    "they are not scanned for viruses."
)

SOFTWARE_ADMINISTRATIVE = {
    "least_privilege": _(
        "Access to personal information is limited by staff role to what each job needs; other information is "
        "masked or not shown."
    ),
}

OPERATIONAL = {
    "antivirus": (
        "technical",
        _("Antivirus programs are used and updated regularly to prevent damage from computer viruses."),
    ),
    "intrusion_prevention": (
        "technical",
        _("Intrusion prevention systems protect against hacking and other attacks from outside."),
    ),
    "vulnerability_scanning": ("technical", _("Servers are checked regularly for vulnerabilities.")),
    "staff_training": (
        "administrative",
        _("Staff who handle personal information receive regular training on security and on their duties."),
    ),
    "security_pledge": (
        "administrative",
        _("Every employee signs a security pledge on joining, and compliance with this policy is audited."),
    ),
}


def measures(encrypted_items: list[str]) -> dict[str, list[str]]:
    technical = [str(text) for code, text in SOFTWARE_TECHNICAL.items() if code != "field_encryption"]
    if encrypted_items:
        technical.insert(
            1,
            str(SOFTWARE_TECHNICAL["field_encryption"])
            % {"items": pgettext("list separator", ", ").join(encrypted_items)},
        )
    technical.append(str(UPLOADS_SCANNED if settings.CLAMAV_SOCKET else UPLOADS_NOT_SCANNED))
    administrative = [str(text) for text in SOFTWARE_ADMINISTRATIVE.values()]
    for code in settings.PRIVACY_SECURITY_MEASURES:
        if code in OPERATIONAL:
            kind, text = OPERATIONAL[code]
            (technical if kind == "technical" else administrative).append(str(text))
    return {"technical": technical, "administrative": administrative}
