"""The policy's own vocabulary: the items of personal information, the purposes, the
retention rules, the protections and the collection contexts.

These are closed sets on purpose. A declaration can only use what the published policy
names, so adding a new purpose or a new retention period is a change to this file, and thus
to the policy page, never something an app can do quietly.
"""

import calendar
from dataclasses import dataclass
from datetime import datetime

from django.db.models import TextChoices
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Context(TextChoices):
    """Where the policy says the data is collected (its three headings), plus staff records."""

    MEMBERSHIP = "membership", _("Member registration and management")
    SERVICE = "service", _("Service provision")
    CONSULTATION = "consultation", _("Consultation")
    SECURITY = "security", _("Security and access records")


class Item(TextChoices):
    NAME = "name", _("Name")
    EMAIL = "email", _("Email address")
    LOGIN_ID = "login_id", _("Login ID")
    PASSWORD = "password", _("Password")
    IP_ADDRESS = "ip_address", _("Connection IP address")
    TIME_OF_USE = "time_of_use", _("Time of service use")
    USAGE_RECORD = "usage_record", _("Service usage records")
    PHONE = "phone", _("Phone number")
    BANK_NAME = "bank_name", _("Bank name")
    ACCOUNT_HOLDER = "account_holder", _("Account holder")
    ACCOUNT_NUMBER = "account_number", _("Account number")
    BILLING_PAYMENT_RECORDS = "billing_payment_records", _("Billing and payment records")
    SNS_ACCOUNT_ID = "sns_account_id", _("Social media account ID")
    PHOTO_LINKS = "photo_links", _("Photo links")
    ORDER_INFORMATION = "order_information", _("Information entered when ordering")
    CONSULTATION_TEXT = "consultation_text", _("Consultation and proposal contents")
    SESSION = "session", _("Login session")
    LOGIN_ATTEMPT = "login_attempt", _("Login attempts")
    STAFF_ACCESS_RECORD = "staff_access_record", _("Staff access records")
    STAFF_CHANGE_RECORD = "staff_change_record", _("Records of changes made by staff")
    ACCESS_RIGHTS_RECORD = "access_rights_record", _("Records of staff access rights")


class Purpose(TextChoices):
    IDENTITY = "identity", _("Member identity verification")
    CUSTOMER_CONFIRMATION = (
        "customer_confirmation",
        _("Customer confirmation when our services are requested and used"),
    )
    NOTICES = "notices", _("Delivery of notices")
    CONSULTATION_IDENTITY = (
        "consultation_identity",
        _("Identity verification, fact-finding and guidance on the outcome for consultations and proposals"),
    )
    SERVICE_CONTRACT = "service_contract", _("Service provision contract")
    SERVICE_CUSTOMER_IDENTITY = "service_customer_identity", _("Identity verification of service customers")
    PAYMENT = "payment", _("Payment of charges")
    REFUND = "refund", _("Refund of transaction amounts on cancellation of purchase")
    FINANCE_RECORDS = "finance_records", _("Keeping electronic financial transaction records")
    CONSULTATION_HANDLING = (
        "consultation_handling",
        _(
            "Contact and notices for fact-finding, and guidance on the outcome, for consultations and proposals"
        ),
    )
    SECURITY = "security", _("Protecting accounts against unauthorised access")
    ACCOUNTABILITY = "accountability", _("Proving who on the staff handled personal information")


class Protection(TextChoices):
    PLAIN = "plain", _("Stored as is, access limited by role")
    ENCRYPTED = "encrypted", _("Encrypted with a key of the member's own")
    ONE_WAY = "one_way", _("Stored only as a one-way hash")


class Mask(TextChoices):
    LAST4 = "last4", _("Last four characters shown")
    EMAIL = "email", _("First letter and domain shown")
    NAME = "name", _("First character shown")
    HIDDEN = "hidden", _("Fully hidden")


class Clock(TextChoices):
    """When a retention period starts: the event every rule counts from."""

    WITHDRAWAL = "withdrawal", _("from withdrawal")
    CONTRACT_END = "contract_end", _("from the end of the contract")
    COMPLAINT_CLOSED = "complaint_closed", _("from the closing of the complaint")
    ROW_TIME = "row_time", _("from the time of the record")
    PURPOSE_MET = "purpose_met", _("from the moment the purpose is met")


@dataclass(frozen=True)
class RetentionRule:
    code: str
    label: Promise
    basis: Promise
    years: int = 0
    months: int = 0
    starts: Promise = _("from the end of the purpose")
    clock: Clock = Clock.PURPOSE_MET

    @property
    def total_months(self) -> int:
        return self.years * 12 + self.months

    def due(self, start: datetime) -> datetime:
        """When data whose period started at ``start`` must be disposed of (calendar months:
        31 August + 6 months is 28 or 29 February)."""
        months = start.month - 1 + self.total_months
        year, month = start.year + months // 12, months % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return start.replace(year=year, month=month, day=day)

    def cutoff(self, now: datetime) -> datetime:
        """The inverse of ``due``: data whose period started on or before this moment is due
        for disposal at ``now``."""
        months = now.year * 12 + now.month - 1 - self.total_months
        year, month = divmod(months, 12)
        day = min(now.day, calendar.monthrange(year, month + 1)[1])
        return now.replace(year=year, month=month + 1, day=day)

    @property
    def period_label(self) -> str:
        from django.utils.translation import ngettext

        if self.years:
            return ngettext("%(n)d year", "%(n)d years", self.years) % {"n": self.years}
        if self.months:
            return ngettext("%(n)d month", "%(n)d months", self.months) % {"n": self.months}
        return str(_("until the purpose is met"))


_ECOMMERCE_ACT = _("Act on Consumer Protection in Electronic Commerce")


class Retention:
    """The closed set of retention rules the policy names (C4), plus the two the security
    standard adds for staff records."""

    UNTIL_PURPOSE_MET = RetentionRule(
        "until_purpose_met",
        _("Until the purpose of collection and use is met"),
        _("Principle of the privacy policy"),
    )
    # "Until the purpose is met" made concrete for consultations and proposals: the purpose
    # (answering) is met when the consultation is closed, but the member may reopen it for 30
    # days and often asks a follow-up question later, which staff answer better with the
    # history; one year covers both, then the consultation is disposed of.
    CONSULTATION_ANSWERED_1Y = RetentionRule(
        "consultation_answered_1y",
        _("Consultations and proposals (until the purpose is met)"),
        _(
            "Principle of the privacy policy: the purpose is met once the consultation is closed; kept one "
            "more year for a reopened or follow-up consultation"
        ),
        years=1,
        starts=_("from the date the consultation is closed"),
        clock=Clock.PURPOSE_MET,
    )
    WITHDRAWN_MEMBER_5Y = RetentionRule(
        "withdrawn_member_5y",
        _("Withdrawn member's information"),
        _(
            "Company policy: to prevent repeated fraudulent use, resolve disputes and cooperate with "
            "investigating authorities"
        ),
        years=5,
        starts=_("from the date the membership contract ends"),
        clock=Clock.WITHDRAWAL,
    )
    CONTRACT_RECORD_5Y = RetentionRule(
        "contract_record_5y",
        _("Records of contracts or withdrawal of offers"),
        _ECOMMERCE_ACT,
        years=5,
        starts=_("from the end of the contract"),
        clock=Clock.CONTRACT_END,
    )
    PAYMENT_SUPPLY_RECORD_5Y = RetentionRule(
        "payment_supply_record_5y",
        _("Records of payment and supply of goods"),
        _ECOMMERCE_ACT,
        years=5,
        starts=_("from the end of the contract"),
        clock=Clock.CONTRACT_END,
    )
    COMPLAINT_RECORD_5Y = RetentionRule(
        "complaint_record_5y",
        _("Records of consumer complaints or dispute handling"),
        _ECOMMERCE_ACT,
        years=5,
        starts=_("from the date the matter is closed"),
        clock=Clock.COMPLAINT_CLOSED,
    )
    USAGE_LOG_6M = RetentionRule(
        "usage_log_6m",
        _("Log records"),
        _("Protection of Communications Secrets Act"),
        months=6,
        starts=_("from the time of use"),
        clock=Clock.ROW_TIME,
    )
    STAFF_ACCESS_2Y = RetentionRule(
        "staff_access_2y",
        _("Records of how staff handle personal information"),
        _("Personal Information Protection Act and its security standard"),
        years=2,
        starts=_("from the time of access"),
        clock=Clock.ROW_TIME,
    )
    PERMISSION_CHANGE_3Y = RetentionRule(
        "permission_change_3y",
        _("Records of granting, changing and removing staff access rights"),
        _("Personal Information Protection Act and its security standard"),
        years=3,
        starts=_("from the time of the change"),
        clock=Clock.ROW_TIME,
    )

    @classmethod
    def all(cls) -> tuple[RetentionRule, ...]:
        return tuple(v for v in vars(cls).values() if isinstance(v, RetentionRule))

    @classmethod
    def get(cls, code: str) -> RetentionRule:
        for rule in cls.all():
            if rule.code == code:
                return rule
        raise KeyError(code)
