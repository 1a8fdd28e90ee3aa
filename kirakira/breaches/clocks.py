"""The legal clocks an incident starts, counted from its detection.

- Notify the affected people within 72 hours (the policy: "at once"; Korea's PIPA art. 34 and
  its decree: within 72 hours).
- Korea: report to the PIPC within 72 hours when 1,000 or more people are affected, or the
  cause is an external attack (PIPA decree art. 40).
- Japan: a preliminary report to the PPC promptly, taken as within 3 to 5 days, and a final
  one within 30 days (60 for an act with a wrongful purpose), when a trigger of the APPI rules
  (art. 7) applies: more than 1,000 people, data whose leak risks financial loss (the bank
  account items here), or an act that may have had a wrongful purpose (an attack, a theft,
  staff misconduct). Data encrypted to a high standard whose keys were
  not exposed is exempt from the Japanese duty, so those clocks do not start then.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

NOTIFY_MEMBERS = "notify_members"
KR_REPORT = "kr_report"
JP_PRELIMINARY = "jp_preliminary"
JP_FINAL = "jp_final"
ORDER = (NOTIFY_MEMBERS, KR_REPORT, JP_PRELIMINARY, JP_FINAL)

LABELS = {
    NOTIFY_MEMBERS: _("Notify the affected members (72 hours)"),
    KR_REPORT: _("Report to the Korean authority, PIPC (72 hours)"),
    JP_PRELIMINARY: _("Preliminary report to the Japanese authority, PPC (3–5 days)"),
    JP_FINAL: _("Final report to the Japanese authority, PPC (30 days, 60 for a wrongful act)"),
}

# Items whose leak risks financial loss (APPI rules art. 7 (ii)).
FINANCIAL_ITEMS = frozenset({"bank_name", "account_holder", "account_number"})
KR_THRESHOLD = 1000  # "1,000 or more"
JP_THRESHOLD = 1000  # "more than 1,000"
SOON = timedelta(days=1)  # reminders go out this long before a clock runs out


@dataclass(frozen=True)
class Clock:
    kind: str
    label: Promise
    applies: bool
    why: str  # why it applies, or why not
    due_at: datetime | None
    done_at: datetime | None = None
    done_note: str = ""

    def state(self, now: datetime) -> str:
        if not self.applies:
            return "not_required"
        if self.done_at is not None:
            return "done"
        if now > self.due_at:
            return "overdue"
        if now > self.due_at - SOON:
            return "due_soon"
        return "running"


# APPI rules art. 7 (iii): an act that may have been done with a wrongful purpose (an attack, a
# theft, staff taking or using data wrongfully); also the 60 days of the final report.
WRONGFUL = frozenset({"external_attack", "theft", "staff_misconduct"})


def _is_attack(incident) -> bool:
    return incident.cause == "external_attack"


def _is_wrongful(incident) -> bool:
    return incident.cause in WRONGFUL


def jp_triggers(incident) -> list[str]:
    found = []
    if incident.affected_count > JP_THRESHOLD:
        found.append(str(_("more than 1,000 people affected")))
    if FINANCIAL_ITEMS & set(incident.items):
        found.append(str(_("bank account data, whose leak risks financial loss")))
    if _is_wrongful(incident):
        found.append(str(_("an act that may have had a wrongful purpose (attack, theft, misconduct)")))
    return found


def clocks(incident, done: dict | None = None) -> list[Clock]:
    """Every clock of the incident, in order, with what is done (``done``: kind -> ClockDone)."""
    done = done if done is not None else {row.kind: row for row in incident.clocks_done.all()}
    start = incident.detected_at
    out = []

    def add(kind, applies, why, due):
        row = done.get(kind)
        out.append(
            Clock(
                kind=kind,
                label=LABELS[kind],
                applies=applies,
                why=why,
                due_at=due if applies else None,
                done_at=row.done_at if row else None,
                done_note=row.note if row else "",
            )
        )

    add(
        NOTIFY_MEMBERS,
        incident.affected_count > 0,
        str(_("%(count)d members affected") % {"count": incident.affected_count})
        if incident.affected_count
        else str(_("no member affected")),
        start + timedelta(hours=72),
    )
    kr = []
    if incident.affected_count >= KR_THRESHOLD:
        kr.append(str(_("1,000 or more people affected")))
    if _is_attack(incident):
        kr.append(str(_("an external attack")))
    add(
        KR_REPORT,
        bool(kr),
        ", ".join(kr) or str(_("fewer than 1,000 people and no attack")),
        start + timedelta(hours=72),
    )
    jp = jp_triggers(incident)
    if jp and incident.protected:
        jp_applies, jp_why = False, str(_("exempt: the data was encrypted under keys that were not exposed"))
    elif jp:
        jp_applies, jp_why = True, ", ".join(jp)
    else:
        jp_applies, jp_why = False, str(_("no trigger of the APPI rules applies"))
    add(JP_PRELIMINARY, jp_applies, jp_why, start + timedelta(days=5))
    add(JP_FINAL, jp_applies, jp_why, start + timedelta(days=60 if _is_wrongful(incident) else 30))
    return out


def pending(now) -> list[tuple[object, list[Clock]]]:
    """Every incident with clocks still to answer, with those clocks (however old: a clock that
    ran out unanswered stays pending until what it asks is recorded). A studio records few
    incidents, so all are read, with their answers, in two queries."""
    from .models import BreachIncident

    found = []
    for incident in BreachIncident.objects.prefetch_related("clocks_done").order_by("detected_at"):
        waiting = [c for c in clocks(incident) if c.state(now) in ("running", "due_soon", "overdue")]
        if waiting:
            found.append((incident, waiting))
    return found
