"""What the running software can do, asked of the running software.

The policy page states a measure only when the capability behind it is here, and
``manage.py check`` lists every promise of the written policy whose capabilities are missing
(``promises.py``). Each capability names what makes it true — a URL, a model, a setting, a
scheduled job — and its probe looks exactly there, at the moment it is asked, so switching the
thing off (unsetting ``CLAMAV_SOCKET``, removing a URL, dropping axes from the backends) takes the
statement off the page.

The privacy core depends on no other app: probes look things up by name (URL names, model
labels, dotted paths), never by importing the apps that provide them. A capability that a later
part of the product will provide names the URL, model or function it will be found by, and is
simply not provided until then.
"""

import ast
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Capability:
    code: str
    provided_by: str  # what makes it true, named for an operator reading `manage.py check`
    probe: Callable[[], bool]

    def provided(self) -> bool:
        if self.code in _forced:
            return _forced[self.code]
        return bool(self.probe())


_forced: dict[str, bool] = {}


@contextmanager
def forced(**codes: bool) -> Iterator[None]:
    """Pretend capabilities are (or are not) provided, for tests of what follows from them."""
    unknown = set(codes) - set(CAPABILITIES)
    if unknown:
        raise KeyError(f"unknown capabilities: {sorted(unknown)}")
    saved = dict(_forced)
    _forced.update(codes)
    try:
        yield
    finally:
        _forced.clear()
        _forced.update(saved)


# --- probes ------------------------------------------------------------------------------------
def _url(*names: str) -> Callable[[], bool]:
    def probe() -> bool:
        for name in names:
            try:
                reverse(name)
            except NoReverseMatch:
                return False
        return True

    return probe


def _model(label: str) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            apps.get_model(label)
        except (LookupError, ValueError):
            return False
        return True

    return probe


def _function(path: str) -> bool:
    try:
        return callable(import_string(path))
    except ImportError:
        return False


def _scheduled(job: str) -> Callable[[], bool]:
    """A job the periodic schedule runs (``kirakira.schedule.is_scheduled``)."""

    def probe() -> bool:
        try:
            is_scheduled = import_string("kirakira.schedule.is_scheduled")
        except ImportError:
            return False
        return bool(is_scheduled(job))

    return probe


def _all(*probes: Callable[[], bool]) -> Callable[[], bool]:
    return lambda: all(probe() for probe in probes)


def _usage_log() -> bool:
    return settings.USAGE_LOG_ENABLED and "kirakira.usage.middleware.UsageLogMiddleware" in settings.MIDDLEWARE


def _staff_access_log() -> bool:
    return (
        _model("privacy.StaffAccessRecord")()
        and "kirakira.privacy.access_log.middleware.StaffAccessLogMiddleware" in settings.MIDDLEWARE
    )


def _staff_gate() -> bool:
    return "kirakira.accounts.gate.middleware.StaffGateMiddleware" in settings.MIDDLEWARE


def _argon2() -> bool:
    return bool(settings.PASSWORD_HASHERS) and settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def _field_encryption() -> bool:
    from kirakira.privacy.catalog import Protection, catalog

    return any(entry.protection == Protection.ENCRYPTED for entry in catalog.entries())


def _reveal_with_reason() -> bool:
    from kirakira.privacy.catalog import catalog

    return _function("kirakira.privacy.audit.reveal.reveal") and any(e.reveal for e in catalog.entries())


def _https() -> bool:
    # The page says "HTTPS only": that holds only while the site itself redirects plain HTTP
    # (behind a TLS proxy too, with SECURE_PROXY_SSL_HEADER telling it what the proxy saw).
    return bool(
        getattr(settings, "SECURE_SSL_REDIRECT", False)
        and getattr(settings, "SESSION_COOKIE_SECURE", False)
        and getattr(settings, "CSRF_COOKIE_SECURE", False)
        and getattr(settings, "SECURE_HSTS_SECONDS", 0)
    )


def _lockout() -> bool:
    return (
        apps.is_installed("axes")
        and any(b.startswith("axes.") for b in settings.AUTHENTICATION_BACKENDS)
        and getattr(settings, "AXES_ENABLED", True)
        and bool(getattr(settings, "AXES_FAILURE_LIMIT", 0))
        and bool(getattr(settings, "AXES_COOLOFF_TIME", None))
    )


def _officer_contact() -> bool:
    return bool(
        settings.PRIVACY_OFFICER_NAME and (settings.PRIVACY_OFFICER_EMAIL or settings.PRIVACY_OFFICER_PHONE)
    )


def _officer_consultations() -> bool:
    from kirakira.common.roles import declaration

    return (
        _url("consultations:new")()
        and "personal_information" in declaration("privacy_officer").consultations
    )


# Libraries that would send data to another party over the network. The project's only outbound
# channels are email to the member (Django's mail backend) and the local virus scanner's socket.
OUTBOUND_CLIENTS = ("requests", "httpx", "urllib.request", "http.client", "aiohttp", "urllib3", "boto3")


PROJECT_ROOT = Path(__file__).resolve().parents[2]  # the kirakira package


@cache
def outbound_imports(root: Path = PROJECT_ROOT) -> tuple[str, ...]:
    """Modules of the project (tests aside) that import a network client library, found by
    reading their source: ``no_provision`` holds only while there are none."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n == c or n.startswith(c + ".") for n in names for c in OUTBOUND_CLIENTS):
                found.append(str(path.relative_to(root.parent)))
    return tuple(found)


def _least_privilege() -> bool:
    from kirakira.common.roles import ROLE_DECLARATIONS

    return all(d.policy_group is not None for d in ROLE_DECLARATIONS)


CAPABILITIES: dict[str, Capability] = {
    c.code: c
    for c in [
        Capability(
            "data_catalog",
            "every stored field declared in an app's privacy.py (manage.py check, kirakira.privacy.E001)",
            lambda: apps.is_installed("kirakira.privacy"),
        ),
        Capability(
            "usage_log",
            "the members' usage log: kirakira.usage.middleware.UsageLogMiddleware in MIDDLEWARE and "
            "USAGE_LOG_ENABLED on",
            _usage_log,
        ),
        Capability("argon2_passwords", "Argon2PasswordHasher first in PASSWORD_HASHERS", _argon2),
        Capability(
            "field_encryption",
            "fields declared Protection.ENCRYPTED in the catalog (per-member keys, kirakira.privacy.crypto)",
            _field_encryption,
        ),
        Capability(
            "reveal_with_reason",
            "kirakira.privacy.audit.reveal.reveal and a catalog field that a role may reveal",
            _reveal_with_reason,
        ),
        Capability(
            "https_transport",
            "SECURE_SSL_REDIRECT, SESSION_COOKIE_SECURE, CSRF_COOKIE_SECURE and SECURE_HSTS_SECONDS "
            "(the production settings)",
            _https,
        ),
        Capability(
            "login_lockout",
            "django-axes installed, its backend in AUTHENTICATION_BACKENDS, AXES_FAILURE_LIMIT and "
            "AXES_COOLOFF_TIME",
            _lockout,
        ),
        Capability(
            "attachment_checks",
            "kirakira.consultations.attachments.check_files (type read from the content, size capped)",
            lambda: _function("kirakira.consultations.attachments.check_files"),
        ),
        Capability("virus_scanning", "a ClamAV daemon in CLAMAV_SOCKET", lambda: bool(settings.CLAMAV_SOCKET)),
        Capability(
            "least_privilege",
            "staff roles placed in the policy's groups (kirakira.common.roles) and the catalog's "
            "per-role visibility",
            _least_privilege,
        ),
        Capability(
            "permission_change_log",
            "the append-only record of staff role and flag changes (model privacy.PermissionChange)",
            _model("privacy.PermissionChange"),
        ),
        Capability(
            "staff_access_log",
            "the staff access log of every view, reveal and download of a member's data (model "
            "privacy.StaffAccessRecord, written by StaffAccessLogMiddleware)",
            _staff_access_log,
        ),
        Capability(
            "access_transparency",
            "the member's list of staff accesses to their data, on the site and in the API (URLs "
            "privacy:access_log and api_v1:privacy-access-log)",
            _all(_staff_access_log, _url("privacy:access_log", "api_v1:privacy-access-log")),
        ),
        Capability(
            "security_pledge",
            "the back office's gate: no personal data before the current security pledge, published "
            "by the privacy officer, is accepted (model staff_gate.SecurityPledge, StaffGateMiddleware)",
            _all(_model("staff_gate.SecurityPledge"), _staff_gate),
        ),
        Capability(
            "training_records",
            "the back office's gate: no personal data without a training record under 12 months old, "
            "entered by the privacy officer (model staff_gate.TrainingRecord, StaffGateMiddleware)",
            _all(_model("staff_gate.TrainingRecord"), _staff_gate),
        ),
        Capability(
            "staff_offboarding",
            "the offboarding of a leaving staff member: open consultations and rights requests handed to "
            "named colleagues before the account is deactivated, the exit pledge recorded, logins ended "
            "(kirakira.accounts.offboarding.offboarding_complete, model staff_gate.Offboarding)",
            _all(
                lambda: _function("kirakira.accounts.offboarding.offboarding_complete"),
                _model("staff_gate.Offboarding"),
                _model("staff_gate.ExitPledge"),
            ),
        ),
        Capability(
            "access_review",
            "the privacy roles' monthly review of the staff access log, with its reviewed mark (model "
            "privacy.AccessReview, URL admin:privacy_staffaccessrecord_changelist)",
            _all(
                _staff_access_log,
                _model("privacy.AccessReview"),
                _url("admin:privacy_staffaccessrecord_changelist"),
            ),
        ),
        Capability(
            "officer_contact",
            "PRIVACY_OFFICER_NAME and PRIVACY_OFFICER_EMAIL or PRIVACY_OFFICER_PHONE",
            _officer_contact,
        ),
        Capability(
            "officer_consultations",
            "the consultation form (URL consultations:new) with personal-information matters routed to "
            "the privacy officer (kirakira.common.roles)",
            _officer_consultations,
        ),
        Capability(
            "profile_page",
            "my page (URL accounts:mypage), where a member sees and corrects their name and email address",
            _url("accounts:mypage"),
        ),
        Capability(
            "order_history",
            "the member's order list and statement (URLs orders:list and orders:statement)",
            _url("orders:list", "orders:statement"),
        ),
        Capability(
            "refunds",
            "refunds of cancelled orders to the member's bank account (model orders.Refund)",
            _model("orders.Refund"),
        ),
        Capability(
            "payment_records",
            "append-only payment records (model orders.Payment)",
            _model("orders.Payment"),
        ),
        Capability(
            "rights_menu",
            "the member's data page, listing and exporting everything held about them (URL privacy:my_data)",
            _url("privacy:my_data"),
        ),
        Capability(
            "correction_requests",
            "requests to correct any item of personal data (URL privacy:correction_request)",
            _url("privacy:correction_request"),
        ),
        Capability(
            "correction_freeze",
            "data under correction kept out of use and export until corrected "
            "(kirakira.privacy.rights.freeze.is_frozen)",
            lambda: _function("kirakira.privacy.rights.freeze.is_frozen"),
        ),
        Capability(
            "withdrawal",
            "withdrawal (deletion) by the member (URL accounts:withdraw)",
            _url("accounts:withdraw"),
        ),
        Capability(
            "processing_stop",
            "requests to stop processing (URL privacy:restriction_request)",
            _url("privacy:restriction_request"),
        ),
        Capability(
            "rights_requests",
            "rights requests with identity re-verification, a deadline and decisions citing the policy's "
            "grounds (model privacy.RightsRequest)",
            _model("privacy.RightsRequest"),
        ),
        Capability(
            "retention_sweep",
            "the retention sweep (kirakira.privacy.retention.sweep.run) in the periodic schedule as "
            "'retention_sweep'",
            _all(
                lambda: _function("kirakira.privacy.retention.sweep.run"),
                _scheduled("retention_sweep"),
            ),
        ),
        Capability(
            "separate_storage",
            "withdrawn members' retained records kept apart from live data (model privacy.RetainedRecord)",
            _model("privacy.RetainedRecord"),
        ),
        Capability(
            "key_retirement",
            "retiring master keys on the backup schedule, so shredded data in old backups becomes "
            "unreadable (kirakira.privacy.crypto.rotation.retire_master_key)",
            lambda: _function("kirakira.privacy.crypto.rotation.retire_master_key"),
        ),
        Capability(
            "no_provision",
            "no module of the project imports a network client (requests, httpx, urllib.request, "
            "http.client, aiohttp, urllib3, boto3): the only outbound channels are email to the member "
            "and the local virus scanner",
            lambda: not outbound_imports(),
        ),
        Capability(
            "disclosure_register",
            "the register of provisions required by law, what each provided and the correction notices "
            "to their recipients (model disclosures.Disclosure)",
            _model("disclosures.Disclosure"),
        ),
        Capability(
            "breach_register",
            "the breach register that finds and notifies the affected members, with its legal clocks and "
            "their reminders (model breaches.BreachIncident, kirakira.breaches.services.notices_send, "
            "the scheduled job breach_clocks)",
            _all(
                _model("breaches.BreachIncident"),
                lambda: _function("kirakira.breaches.services.notices_send"),
                _scheduled("breach_clocks"),
            ),
        ),
        Capability(
            "staff_intake",
            "staff registering consultations that arrived by email or phone "
            "(kirakira.consultations.services.consultation_register_from_channel)",
            lambda: _function("kirakira.consultations.services.consultation_register_from_channel"),
        ),
        Capability(
            "cookie_consent",
            "the cookie registry, banner and consent records (app kirakira.consent)",
            lambda: apps.is_installed("kirakira.consent"),
        ),
        Capability(
            "policy_versions",
            "published policy versions announced before they apply (model privacy.PolicyVersion)",
            _model("privacy.PolicyVersion"),
        ),
        Capability(
            "policy_drift_guard",
            "the live policy page held to the published version: a change of code or settings that "
            "changes the page waits for a new version (kirakira.privacy.policy.drift.live_matches_version)",
            lambda: _function("kirakira.privacy.policy.drift.live_matches_version"),
        ),
    ]
}


def provided(code: str) -> bool:
    return CAPABILITIES[code].provided()


def snapshot() -> dict[str, bool]:
    """Every capability and whether it is provided now (for a template: ``cap.virus_scanning``)."""
    return {code: capability.provided() for code, capability in CAPABILITIES.items()}
