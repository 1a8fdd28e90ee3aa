"""Which emails a stop of processing stops (policy C7: "notices other than those a law or the
contract requires").

Every email the site sends is classified here, by its kind in the delivery ledger
(``email_send_once(kind=...)``); a test fails when a kind is sent that is not. Only
``COURTESY`` emails are stopped: the others a member cannot do without (a security email guards
their account, a contract email carries what the contract needs them to know or do, a law
email is one a law obliges the studio to send), so a stop does not reach them.

A kind whose obligation depends on the step it tells about (an order's progress) is classified
step by step, as ``"<kind>:<step>"``.
"""

import logging

SECURITY, CONTRACT, LAW, COURTESY = "security", "contract", "law", "courtesy"

logger = logging.getLogger("kirakira.privacy.rights")

NOTICES = {
    # Accounts: proof of the address, and alarms about the account. Stopping them would leave a
    # hijack unseen or lock the member out.
    "accounts.registration_confirmation": SECURITY,
    "accounts.new_email_confirmation": SECURITY,
    "accounts.email_change_notice": SECURITY,
    "accounts.password_reset": SECURITY,
    "accounts.first_password": SECURITY,
    # To the privacy officers, about who may see members' data: access control, not a notice to
    # a member.
    "accounts.role_request_notice": SECURITY,
    # Orders. How to pay (the account, the amount, the payment reference): the contract cannot
    # be performed without it.
    "orders.order_placed": CONTRACT,
    # Payment received in full: the Act on Specified Commercial Transactions (art. 13) requires
    # a seller paid in advance to tell the buyer, without delay, that the payment arrived and
    # the order is accepted.
    "orders.order_event:paid": LAW,
    # Paid too much: the member must give an account for the refund of the difference.
    "orders.order_event:overpaid": CONTRACT,
    # Work started: the order page shows it, and nothing is asked of the member or owed to them
    # because of it.
    "orders.order_event:started": COURTESY,
    # The work is done: the contract's performance, which the member checks (and after which
    # the order can no longer be cancelled).
    "orders.order_event:completed": CONTRACT,
    # A cancellation and the money owed or returned because of it.
    "orders.order_event:cancelled": CONTRACT,
    "orders.order_event:refund_paid": CONTRACT,
    # The payment deadline: the reminder repeats what the order's email and page already say (the
    # amount, the account, the deadline), so a stop of notices stops it; the cancellation for want
    # of payment ends the contract, and a transfer after it is money owed back, which needs an
    # account from the member.
    "orders.order_event:payment_due_soon": COURTESY,
    "orders.order_event:cancelled_unpaid": CONTRACT,
    "orders.order_event:paid_after_cancellation": CONTRACT,
    # Consultations. A visitor's address is confirmed by this link, or nothing is passed on.
    "consultations.confirm_visitor": SECURITY,
    # For a visitor, the link to their thread is their only way to it: without this email the
    # consultation they asked us to handle cannot be answered.
    "consultations.visitor_received": CONTRACT,
    # The same link, for a visitor whose consultation by email or phone staff registered.
    "consultations.visitor_registered": CONTRACT,
    # "A reply is waiting": a member reads the reply on the site (My consultations, My page), so
    # the email only draws attention to it. A visitor has no account, hence no stop, and keeps
    # getting it (it carries the only link to their thread).
    "consultations.reply": COURTESY,
    # Retention and rights: the answers the Personal Information Protection Act requires (to a
    # withdrawal, to a request, its extension or refusal with the reason), the code that proves
    # who asks, and the reminder that keeps the legal deadline.
    "privacy.withdrawal_notice": LAW,
    "privacy.identity_code": SECURITY,
    "privacy.rights_received": LAW,
    "privacy.rights_refused": LAW,
    "privacy.rights_extended": LAW,
    "privacy.rights_done": LAW,
    "privacy.rights_export_ready": LAW,
    "privacy.rights_export_failed": LAW,
    "privacy.rights_reminder": LAW,
    # A personal data incident: the notice to an affected member (APPI art. 26, PIPA art. 34),
    # and the reminder to the privacy roles that keeps the laws' deadlines.
    "breaches.notice": LAW,
    "breaches.clock_reminder": LAW,
}

CLASSES = frozenset({SECURITY, CONTRACT, LAW, COURTESY})


def classify(kind: str, step: str = "") -> str:
    """The class of an email kind (of a step of it, for kinds classified step by step). An
    unclassified kind counts as a courtesy: a member's stop is never overridden by a kind
    nobody weighed (the test of this module catches it first)."""
    found = NOTICES.get(f"{kind}:{step}" if step else kind)
    if found is None:
        logger.warning("email kind %s:%s is not classified; treated as a courtesy", kind, step)
        return COURTESY
    return found


def may_send(member_id, kind: str, step: str = "") -> bool:
    """Whether this email may go to the member: always unless it is a courtesy and they
    stopped "notices" (or everything). ``member_id`` None (a visitor) has no stop."""
    if classify(kind, step) != COURTESY or member_id is None:
        return True
    from .models import Scope
    from .restriction import is_stopped

    if is_stopped(member_id, Scope.NOTICES):
        # The kind and the reason only: the member is not named in the log.
        logger.info("email %s%s not sent: processing stopped (notices)", kind, f":{step}" if step else "")
        return False
    return True
