"""The written privacy policy's promises, each with what keeps it.

``privacy-policy.ja.txt`` (the studio's published policy) makes 70 distinct promises. Each is
listed here once, numbered as the product's promise review numbers them (P1–P70), with the
capabilities of the running code that keep it (``capabilities.py``), or the operator's statement
it rests on (``operator.py``) when no software can keep it, or as a legal reservation that needs
nothing executed. A promise is kept when every capability it needs is provided and its operator
statement, if any, is given.

``manage.py check`` warns about every promise not kept, with a stable ID (``kirakira.policy.W018``
for P18), so the gap between the written policy and the software is visible to operators and to
us until the capability lands and the warning disappears by itself. The policy page states only
what is kept: its statements follow the same capabilities.
"""

from dataclasses import dataclass

from . import operator as operator_statements
from .capabilities import CAPABILITIES


@dataclass(frozen=True)
class Promise:
    number: int
    clause: str
    text: str  # the promise, in English, for operators reading `manage.py check`
    needs: tuple[str, ...] = ()  # capability codes
    operator: str = ""  # an operator statement code (operator.STATEMENTS)
    legal: bool = False  # a legal reservation or disclaimer: stated as such, nothing to execute
    partly: str = ""  # what already runs toward it, while it is not kept

    @property
    def id(self) -> str:
        return f"P{self.number}"

    def missing(self) -> list[str]:
        """What is missing for the promise to be kept (capability descriptions or the operator
        statement), empty when it is kept."""
        missing = [CAPABILITIES[code].provided_by for code in self.needs if not CAPABILITIES[code].provided()]
        if self.operator and self.operator not in operator_statements.given():
            missing.append(f"the operator's statement {self.operator!r} in PRIVACY_OPERATOR_STATEMENTS")
        return missing

    def kept(self) -> bool:
        return not self.missing()


def _p(number, clause, text, *needs, operator="", legal=False, partly=""):
    return Promise(number, clause, text, tuple(needs), operator, legal, partly)


_INTRO, _COLLECT, _KEEP, _GIVE = "introduction", "collection", "retention", "provision"
_OFFICER, _RIGHTS, _COOKIES = "privacy officer", "rights", "cookies"
_TECH, _ADMIN, _CHANGES = "technical measures", "administrative measures", "changes"

PROMISES: tuple[Promise, ...] = (
    _p(1, _INTRO, "complies with the laws the policy cites", operator="legal_compliance"),
    _p(2, _INTRO, "tells the purposes and methods of use and the protective measures", "data_catalog"),
    _p(
        3,
        _COLLECT,
        "collects through the website, email and online consultation",
        "staff_intake",
        partly="the website and its online consultation form collect; staff cannot register a "
        "consultation that arrived by email or phone",
    ),
    _p(4, _COLLECT, "collects only the minimum needed", "data_catalog"),
    _p(5, _COLLECT, "membership: name, email address, login ID", "data_catalog"),
    _p(6, _COLLECT, "membership: IP address, time of use and usage records, automatically", "usage_log"),
    _p(7, _COLLECT, "membership purpose: member identity verification", "data_catalog"),
    _p(8, _COLLECT, "membership purpose: customer confirmation when services are requested", "data_catalog"),
    _p(9, _COLLECT, "membership purpose: delivery of notices", "data_catalog"),
    _p(10, _COLLECT, "membership purpose: identity and facts for consultations, guidance", "data_catalog"),
    _p(11, _COLLECT, "service: name, phone, bank details, billing and payment records, order information", "data_catalog"),
    _p(12, _COLLECT, "service purposes: the service contract and the customer's identity", "data_catalog"),
    _p(13, _COLLECT, "service purposes: payment of charges and refunds on cancellation", "refunds"),
    _p(14, _COLLECT, "service purpose: keeping electronic financial transaction records", "payment_records"),
    _p(15, _COLLECT, "consultation: name, contact, bank details, billing records, order information", "data_catalog"),
    _p(16, _COLLECT, "consultation purposes: identity, contact for fact-finding, guidance on the outcome", "data_catalog"),
    _p(17, _COLLECT, "consultation purpose: refund of cancelled purchases", "refunds"),
    _p(
        18,
        _KEEP,
        "personal information is disposed of promptly once its purpose is met",
        "retention_sweep",
        partly="the worker's schedule deletes unconfirmed visitor consultations with their key, closes idle "
        "answered ones, and prunes finished task rows and expired logins; nothing yet disposes of the rest",
    ),
    _p(
        19,
        _KEEP,
        "disposal cannot be undone: keys destroyed, backups included",
        "retention_sweep",
        "key_retirement",
        partly="kirakira.privacy.crypto.datakeys.shred destroys a member's key; nothing retires master keys "
        "on the backup schedule",
    ),
    _p(
        20,
        _KEEP,
        "a withdrawn member's information is kept 5 years, apart, then disposed of",
        "withdrawal",
        "separate_storage",
        "retention_sweep",
    ),
    _p(21, _KEEP, "contract and withdrawal records kept 5 years", "retention_sweep", partly="kept, never disposed of"),
    _p(22, _KEEP, "payment and supply records kept 5 years", "retention_sweep", partly="kept, never disposed of"),
    _p(23, _KEEP, "complaint and dispute records kept 5 years", "retention_sweep", partly="kept, never disposed of"),
    _p(24, _KEEP, "log records kept 6 months", "retention_sweep", partly="kept, never disposed of"),
    _p(25, _GIVE, "personal information is not provided to third parties", "no_provision"),
    _p(26, _GIVE, "except where the law requires it", legal=True),
    _p(27, _OFFICER, "a privacy officer is appointed", "officer_contact"),
    _p(28, _OFFICER, "the officer's contact is shown", "officer_contact"),
    _p(
        29,
        _OFFICER,
        "inquiries are answered promptly and sincerely",
        "rights_requests",
        partly="the officer's desk lists open matters with their age; no deadline is kept",
    ),
    _p(
        30,
        _RIGHTS,
        "a member may see their personal information at any time",
        "rights_menu",
        partly="my page shows the login ID, name and email address; the order list and statement show orders",
    ),
    _p(
        31,
        _RIGHTS,
        "a member may have it corrected",
        "correction_requests",
        partly="my page corrects the name and the email address",
    ),
    _p(32, _RIGHTS, "a member may have it deleted", "withdrawal"),
    _p(33, _RIGHTS, "a member may have its processing stopped", "processing_stop"),
    _p(
        34,
        _RIGHTS,
        "through the related menu on the website",
        "rights_menu",
        partly="a personal-information consultation reaches the privacy officer",
    ),
    _p(35, _RIGHTS, "after identity verification", "rights_requests"),
    _p(36, _RIGHTS, "answered promptly", "rights_requests"),
    _p(37, _RIGHTS, "information under correction is not used or provided until corrected", "correction_freeze"),
    _p(38, _RIGHTS, "third parties already given wrong information are told of the correction", "disclosure_register", "correction_requests"),
    _p(39, _RIGHTS, "access, deletion or stop refused only on grounds 1-3", "rights_requests"),
    _p(40, _COOKIES, "cookies are used for the users' convenience", "cookie_consent"),
    _p(41, _COOKIES, "cookie purpose: the language the customer uses", "cookie_consent"),
    _p(42, _COOKIES, "cookie purpose: popups the customer asked not to be shown", "cookie_consent"),
    _p(43, _COOKIES, "the customer chooses whether cookies are set", "cookie_consent"),
    _p(44, _COOKIES, "refusing cookies may limit the service", "cookie_consent"),
    _p(45, _COOKIES, "a table of the cookies", "cookie_consent"),
    _p(46, _COOKIES, "how to allow, refuse and see cookies in the browser", "cookie_consent"),
    _p(47, _TECH, "personal information is protected by passwords", "argon2_passwords"),
    _p(48, _TECH, "stored files are encrypted", "field_encryption"),
    _p(
        49,
        _TECH,
        "transmitted data is encrypted",
        "https_transport",
        partly="HTTPS, HSTS and secure cookies are on with KIRAKIRA_PRODUCTION=1",
    ),
    _p(50, _TECH, "important data has further protection", "field_encryption", "reveal_with_reason"),
    _p(51, _TECH, "antivirus programs are used", operator="antivirus"),
    _p(52, _TECH, "antivirus programs are updated regularly and at once", operator="antivirus"),
    _p(53, _TECH, "a security device encrypts personal information on the network", "https_transport"),
    _p(54, _TECH, "intrusion prevention systems", operator="intrusion_prevention"),
    _p(55, _TECH, "server vulnerability analysis", operator="vulnerability_scanning"),
    _p(56, _ADMIN, "access is limited to the smallest number of people", "least_privilege"),
    _p(57, _ADMIN, "(a) staff who deal directly with customers", "least_privilege"),
    _p(58, _ADMIN, "(b) the privacy officer and privacy staff", "least_privilege"),
    _p(59, _ADMIN, "(c) others whose work requires it", "least_privilege"),
    _p(60, _ADMIN, "regular training of staff", "training_records"),
    _p(61, _ADMIN, "a security pledge from every employee on joining", "security_pledge"),
    _p(62, _ADMIN, "an internal audit of compliance with the policy", "staff_access_log", "access_review"),
    # P63-P64 rested on the operator's word ("secure_handover") while nothing ran. The software now
    # does what the sentences promise about leaving: a leaver's open work goes to named colleagues
    # who can see it before the account can be deactivated, their exit pledge (confidentiality
    # continuing after they leave) is recorded, their logins end, and an append-only record says
    # all of it. So the capability keeps them, and the operator's statement is no longer needed:
    # the rest of that statement (responsibility "after joining", the security pledge) is kept by
    # the gate's own capability (P61). What no software sees -- that a colleague reads the work
    # handed to them, that the paper was really signed -- is the administrator's record to answer for.
    _p(63, _ADMIN, "secure handover of work", "staff_offboarding"),
    _p(64, _ADMIN, "responsibility before and after leaving made clear", "staff_offboarding", "security_pledge"),
    _p(65, _ADMIN, "affected customers are told at once of a leak", "breach_register"),
    _p(66, _ADMIN, "appropriate measures and compensation after an incident", operator="incident_compensation"),
    _p(67, _ADMIN, "no liability for the customer's own error or the internet's basic risks", legal=True),
    _p(68, _CHANGES, "amendments are announced on the website", "policy_versions"),
    _p(69, _CHANGES, "with the reason and the content", "policy_versions"),
    _p(
        70,
        _CHANGES,
        "announced before they take effect",
        "policy_versions",
        "policy_drift_guard",
        partly="published versions are announced at least 7 days ahead (a wording correction the same "
        "day); the live page follows code and settings without a new version",
    ),
)


def by_number(number: int) -> Promise:
    return PROMISES[number - 1]


def unkept() -> list[Promise]:
    return [p for p in PROMISES if not p.legal and not p.kept()]
