"""Staff roles, each declared once.

A role's declaration says everything the code needs to know about it: its label, where the
privacy policy places it among the staff with access to personal information (管理的対策 ①, the
groups a, b and c), the permissions its work needs, the consultations routed to it, and its demo
account. The ``Role`` enum, the groups' permissions (set from here after every ``migrate``), the
consultation routing, the policy page's role table and the demo data all read these
declarations, so adding a role is one entry below. What each role sees of personal data, field by
field, is the data catalog's business (each app's ``privacy.py``), never this file's.

Least privilege (policy C10): a role gets only the permissions its work needs. Superuser status
adds no role and no personal data (``roles_of``).
"""

from dataclasses import dataclass, field

from django.db.models import TextChoices
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class PolicyGroup(TextChoices):
    """The policy's grouping of the people with access to personal information (管理的対策 ①)."""

    CUSTOMER_FACING = "a", _("Staff who deal directly with customers (marketing)")
    PRIVACY = "b", _("The privacy officer and staff in charge of personal information")
    OTHERS = "c", _("Others whose work unavoidably involves personal information")


@dataclass(frozen=True)
class RoleDeclaration:
    code: str
    label: Promise
    # Where the policy places the role; a role it does not place fails ``manage.py check``.
    policy_group: PolicyGroup | None
    permissions: frozenset[str] = field(default_factory=frozenset)  # "app_label.codename"
    # Consultation categories routed to the role (kirakira.consultations.routing).
    consultations: frozenset[str] = field(default_factory=frozenset)
    officer_desk: bool = False  # may use the privacy officer's desk of open matters
    demo_account: tuple[str, str] = ("", "")  # login ID and name of its account in `make run`


_NOTICES = {"consent.view_notice", "consent.add_notice", "consent.change_notice", "consent.delete_notice"}
_CONSULTATIONS = {"consultations.view_consultation", "consultations.reply_consultation"}
_ORDERS_READ = {"orders.view_order", "orders.view_payment", "orders.view_cancellation"}
# Staff offboarding (kirakira/accounts/offboarding.py): the exit pledge's versions and the records.
_OFFBOARDING_READ = {
    "staff_gate.view_exitpledge",
    "staff_gate.view_offboarding",
    "staff_gate.view_offboardinghandover",
}
_PRIVACY_READ = {
    "accounts.view_user",
    "privacy.view_permissionchange",
    "usage.view_usagerecord",
    "privacy.view_policyversion",
    "legal.view_termsversion",
    # The register of provisions required by law (policy C5), kept by the privacy roles.
    "disclosures.view_disclosure",
    "disclosures.record_disclosure",
    "disclosures.view_correctionnotice",
    # The breach register (policy C10 ⑤): incidents, their clocks and notices.
    "breaches.view_breachincident",
    "breaches.record_breachincident",
    "orders.view_refund",
    "consent.view_consentrecord",
    "consent.view_notice",
    "schedule.view_scheduledjob",
    # The gate before personal data: the pledge's versions, who accepted them, training records.
    "staff_gate.view_securitypledge",
    "staff_gate.view_pledgeacceptance",
    "staff_gate.view_trainingrecord",
    *_OFFBOARDING_READ,
    # The staff access log's monthly review; which of the two roles marks which part of a month
    # is kirakira/privacy/access_log/review_services.py's rule.
    "privacy.view_staffaccessrecord",
    "privacy.review_staffaccessrecord",
    # The disposal ledger: what each retention sweep disposed of, and the certificates.
    "privacy.view_disposalrun",
    "privacy.view_disposalcount",
    "privacy.view_legalhold",
    # The key rotation register: when master and blind-index keys were last rotated.
    "privacy.view_keyrotation",
    # Members' rights requests: listed with their due dates, answered within them.
    "privacy.view_rightsrequest",
    "privacy.decide_rightsrequest",
    *_ORDERS_READ,
    *_CONSULTATIONS,
}

ROLE_DECLARATIONS: tuple[RoleDeclaration, ...] = (
    RoleDeclaration(
        "customer_service",
        _("Customer service"),
        PolicyGroup.CUSTOMER_FACING,
        permissions=frozenset(
            {
                "accounts.view_user",
                "orders.view_service",
                "orders.view_snsplatform",
                "orders.work_on_order",
                *_ORDERS_READ,
                *_CONSULTATIONS,
                *_NOTICES,
            }
        ),
        consultations=frozenset({"question", "proposal", "complaint"}),
        demo_account=("cs_sato", "佐藤 カスタマー"),
    ),
    RoleDeclaration(
        "accounting",
        _("Accounting"),
        PolicyGroup.OTHERS,
        permissions=frozenset(
            {
                "accounts.view_user",
                "orders.view_service",
                "orders.record_payment",
                "orders.view_refund",
                *_ORDERS_READ,
            }
        ),
        demo_account=("acct_tanaka", "田中 経理"),
    ),
    RoleDeclaration(
        "privacy_officer",
        _("Privacy officer"),
        PolicyGroup.PRIVACY,
        permissions=frozenset(
            {
                *_PRIVACY_READ,
                "auth.view_group",
                "privacy.publish_policyversion",
                "accounts.decide_rolerequest",
                "staff_gate.publish_securitypledge",
                "staff_gate.add_trainingrecord",
                # Withdrawn members' records kept apart, and the holds that stop disposal.
                "privacy.view_retainedrecord",
                "privacy.view_registrationmatch",
                "privacy.place_legal_hold",
            }
        ),
        consultations=frozenset({"complaint", "personal_information"}),
        officer_desk=True,
        demo_account=("dpo_kimura", "木村 個人情報管理責任者"),
    ),
    RoleDeclaration(
        "privacy_staff",
        _("Privacy staff"),
        PolicyGroup.PRIVACY,
        permissions=frozenset(_PRIVACY_READ),
        consultations=frozenset({"personal_information"}),
        officer_desk=True,
        demo_account=("privacy_ito", "伊藤 個人情報担当"),
    ),
    RoleDeclaration(
        "administrator",
        _("Administrator"),
        PolicyGroup.OTHERS,
        permissions=frozenset(
            {
                "accounts.view_user",
                "accounts.add_user",
                "accounts.change_user",
                "auth.view_group",
                "privacy.view_policyversion",
                "legal.publish_termsversion",
                "legal.view_termsversion",
                "orders.view_service",
                "orders.add_service",
                "orders.change_service",
                "orders.view_snsplatform",
                "orders.add_snsplatform",
                "orders.change_snsplatform",
                *_OFFBOARDING_READ,
                *_NOTICES,
            }
        ),
        demo_account=("admin_kato", "加藤 管理者"),
    ),
)

# The enum every app uses (``Role.ACCOUNTING``), made from the declarations above.
Role = TextChoices("Role", [(d.code.upper(), (d.code, d.label)) for d in ROLE_DECLARATIONS])
Role.__doc__ = "Staff roles (Django groups of the same names), from ROLE_DECLARATIONS."

ALL_STAFF_ROLES = frozenset(Role)


def declaration(role: str) -> RoleDeclaration:
    for entry in ROLE_DECLARATIONS:
        if entry.code == str(role):
            return entry
    raise KeyError(role)


def roles_of(user) -> set[str]:
    """The staff roles of a user, cached on the user object.

    Superuser status (only ever given by ``createsuperuser`` on the server) adds no role: what a
    staff member sees of personal data follows their roles alone."""
    if not user.is_authenticated or not user.is_staff:
        return set()
    cached = getattr(user, "_kirakira_roles", None)
    if cached is None:
        cached = user._kirakira_roles = set(
            user.groups.filter(name__in=Role.values).values_list("name", flat=True)
        )
    return cached


def sync_role_groups(*, strict: bool = True, verbosity: int = 0) -> None:
    """Make each role's group hold exactly its declared permissions (run after ``migrate``).

    The declarations are the truth: a permission removed here is taken away from the group, and
    the back office offers no way to edit groups, so the database cannot drift from this file.
    Permissions are created first, since Django creates them per app as ``migrate`` finishes.
    """
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    wanted_codes = {code for entry in ROLE_DECLARATIONS for code in entry.permissions}
    by_code = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    missing = sorted(wanted_codes - set(by_code))
    if missing and strict:
        raise LookupError(f"roles declare permissions that do not exist: {', '.join(missing)}")
    # Not strict after a partial ``migrate``: a model not migrated yet has no permissions; they
    # are granted by the ``migrate`` that creates it.
    for entry in ROLE_DECLARATIONS:
        group, _created = Group.objects.get_or_create(name=entry.code)
        group.permissions.set([by_code[code] for code in entry.permissions if code in by_code])
        if verbosity >= 2:
            print(f"  role {entry.code}: {len(entry.permissions)} permissions")
