"""Deletion of particular data (policy C7): the member names what to delete, from what "My data"
shows (``selectors``); when staff approve, what no retention rule keeps now is deleted, and the
answer lists what is kept, under which rule and until when.

An entry is a kind of record ("consultations.Consultation": all of the member's consultations)
or one field of it ("orders.Order.note": that field of each of them, emptied). Whether a rule
keeps a value is the catalog's rule for it (a complaint's is the complaint rule):

- A rule the law or the company's duties set (contract, payment and complaint records, the
  usage log, the membership record of a withdrawn member) keeps the value until its period
  ends; the member's request does not end it. Values whose period has already ended go.
- A rule "until the purpose is met" (a consultation's follow-up year, a login, a token, an
  identity code) ends with the member's request: the member no longer wants the purpose served.
  What still serves a request of the member's own is kept (``IN_USE``).

Deleting everything is withdrawal (``accounts:withdraw``), which the form links to; the account
itself is not an entry. A member under a legal hold is refused (staff cite ground ①).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Max, OuterRef, Q, Subquery
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from kirakira.common import clock
from kirakira.privacy.catalog.vocabulary import Clock as RuleClock
from kirakira.privacy.catalog.vocabulary import RetentionRule
from kirakira.privacy.crypto.fields import BlindIndexField
from kirakira.privacy.retention import journal
from kirakira.privacy.retention import rules as retention_rules

from . import selectors
from .models import OPEN, Kind, RightsRequest, Status
from .selectors import Rule, rule_words

MAX_ENTRIES = 100


@dataclass(frozen=True)
class InUse:
    """Rows a purpose-met rule would let go, kept because they still serve the member."""

    rows: Callable  # (member, request or None) -> Q
    until: Callable[[], str]


def _requests_in_use(member, request) -> Q:
    # An open request is still to be answered, and a stop of processing in force is the member's
    # own protection: deleting either would undo what the member asked for. An export whose link
    # still works keeps its row, through which the sweep finds and deletes its file.
    return (
        Q(status__in=OPEN)
        | Q(kind=Kind.RESTRICTION, status=Status.DONE)
        | (Q(kind=Kind.EXPORT, expires_at__gt=clock.now()) & ~Q(file_name=""))
    )


def _last_login_used(member, request) -> Q:
    from kirakira.accounts.models import BrowserSession

    latest = BrowserSession.objects.filter(user=OuterRef("user")).order_by(
        F("last_used_at").desc(nulls_last=True), F("created_at").desc(nulls_last=True)
    )
    return Q(pk=Subquery(latest.values("pk")[:1]))


IN_USE = {
    "privacy.RightsRequest": InUse(
        rows=_requests_in_use,
        until=lambda: _(
            "while the request is open, or while the stop of processing it asked for is in force"
        ),
    ),
    # The login the member used last stays, so that asking does not log them out; they end it
    # themselves on the page of their logins.
    "accounts.BrowserSession": InUse(
        rows=_last_login_used,
        until=lambda: _("the login you used last expires or you end it (on the page of your logins)"),
    ),
}


# --- entries ---------------------------------------------------------------------------------
def parse(key) -> tuple[selectors.Kind, str | None] | None:
    """(kind, field or None) of an entry key; ``None`` for one that names nothing deletable."""
    if not isinstance(key, str):
        return None
    parts = key.split(".")
    if len(parts) not in (2, 3) or not all(parts):
        return None
    kind = selectors.kind_of(f"{parts[0]}.{parts[1]}")
    if kind is None:
        return None
    if len(parts) == 2:
        # The account goes only by withdrawal; its fields one by one, where a rule allows.
        return None if kind.model is _user_model() else (kind, None)
    return (kind, parts[2]) if parts[2] in kind.deletion_fields() else None


def _user_model():
    from django.contrib.auth import get_user_model

    return get_user_model()


def entry_label(key: str) -> str:
    parsed = parse(key)
    if parsed is None:
        return key
    kind, field_name = parsed
    return selectors.entry_label(kind, field_name)


def deletable_entries(member) -> list[tuple[str, list[tuple[str, str]]]]:
    """The choices of the deletion form, grouped by the policy's contexts: each kind of record
    the member has, and those of its fields a request can empty alone (``Kind.offered_fields``;
    the API takes any entry "My data" shows). The account itself is not among them: its name and
    email address are changed on my page, and it is deleted by withdrawal."""
    from kirakira.privacy.catalog import Context

    by_context: dict[str, list[tuple[str, str]]] = {}
    for kind in selectors.held_kinds(member):
        choices = by_context.setdefault(str(kind.declaration.context), [])
        if kind.model is not _user_model():
            choices.append((kind.label, selectors.entry_label(kind)))
        for field_name in kind.offered_fields():
            if kind.model is _user_model() and not _ends_on_request_only(kind, field_name):
                continue
            choices.append((f"{kind.label}.{field_name}", selectors.entry_label(kind, field_name)))
    return [
        (str(context.label), by_context[context.value])
        for context in Context
        if by_context.get(context.value)
    ]


def _ends_on_request_only(kind, field_name) -> bool:
    entry = kind.declaration.fields[field_name]
    return all(_ends_on_request(rule) for rule in entry.rules)


def clean_entries(member, entries) -> list[str]:
    """The entry keys of a deletion request, each naming data the member has; raises
    ``ValidationError({"entries": [...]})`` otherwise. Changes nothing."""
    if isinstance(entries, str):
        entries = [entries] if entries.strip() else []
    if not isinstance(entries, (list, tuple)) or not entries:
        raise ValidationError({"entries": [_("Choose the data to delete.")]})
    if len(entries) > MAX_ENTRIES:
        raise ValidationError(
            {"entries": [_("Choose at most %(max)d kinds of data.") % {"max": MAX_ENTRIES}]}
        )
    errors, cleaned = [], []
    held = {kind.label for kind in selectors.held_kinds(member)}
    for key in entries:
        parsed = parse(key)
        if parsed is None:
            errors.append(_why_not(key))
            continue
        kind, _field = parsed
        if kind.label not in held:
            errors.append(_("You have no %(data)s.") % {"data": selectors.entry_label(kind)})
            continue
        if key not in cleaned:
            cleaned.append(key)
    if errors:
        raise ValidationError({"entries": errors})
    return cleaned


def _why_not(key) -> str:
    """Why ``key`` cannot be asked for, in the member's words."""
    parts = key.split(".") if isinstance(key, str) else []
    kind = selectors.kind_of(".".join(parts[:2])) if len(parts) in (2, 3) else None
    if kind is not None and kind.model is _user_model():
        return _(
            "Your account is deleted by withdrawing from membership; your name and email address you change on "
            "my page."
        )
    if kind is not None and len(parts) == 3 and parts[2] in {entry.field for entry in kind.personal_fields()}:
        return _("“%(item)s” cannot be deleted alone: choose all of “%(kind)s”.") % {
            "item": kind.model._meta.get_field(parts[2]).verbose_name,
            "kind": selectors.entry_label(kind),
        }
    return _("There is no such data: “%(entry)s”.") % {"entry": str(key)[:100]}


# --- carrying it out -------------------------------------------------------------------------
def _ends_on_request(rule: RetentionRule) -> bool:
    return rule.clock == RuleClock.PURPOSE_MET


def _partitions(kind: selectors.Kind, field_name: str | None) -> dict[RetentionRule, Q]:
    """{rule: the rows some of the entry's values follow it in}."""
    if field_name is not None:
        entries = [kind.declaration.fields[field_name]]
    else:
        entries = list(kind.personal_fields())
    found: dict[RetentionRule, Q] = {}

    def add(rule, condition):
        found[rule] = found[rule] | condition if rule in found else condition

    for entry in entries:
        if entry.retention_by is None:
            add(entry.retention, Q())
            continue
        path, by_value = entry.retention_by
        lookup = path.replace(".", "__")
        values = [value for value, _rule in by_value]
        for value, rule in by_value:
            add(rule, Q(**{lookup: value}))
        add(entry.retention, ~Q(**{f"{lookup}__in": values}))
    if field_name is None and kind.declaration.record is not None:
        add(kind.declaration.record.retention, Q())
    return found


def _past(kind, rule, rows, now) -> Q:
    """The rows whose period under ``rule`` has already ended (due; the sweep has not run yet)."""
    clocks = selectors.clocks_of(kind, {rule}, [0]).get(rule, [])
    past = Q(pk__in=[])
    for found in clocks:
        if found.kind == "direct":
            past |= Q(**{f"{found.path}__lte": rule.cutoff(now) - found.after})
        elif found.kind == "mapped":
            selectors._read_mapped({rule: [found]}, rows)
            ids = [
                key
                for key, start in found.starts.items()
                if start is not None and found.due(rule, start) <= now
            ]
            past |= Q(**{f"{found.path or 'pk'}__in": ids})
    return past


def _date(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "DATE_FORMAT")


def _until(kind, rule: RetentionRule, rows) -> list[tuple[str, int]]:
    """(until, how many) of the kept rows: the date the last started one goes, and the rule's
    words for those whose clock has not started."""
    clocks = selectors.clocks_of(kind, {rule}, [0]).get(rule, [])
    event = clocks[0].event if clocks else ""
    words = rule_words(Rule.of(rule), event)
    direct = [found for found in clocks if found.kind == "direct"]
    if len(clocks) == 1 and direct:
        found = direct[0]
        totals = rows.aggregate(
            latest=Max(found.path),
            n=Count("pk"),
            missing=Count("pk", filter=Q(**{f"{found.path}__isnull": True})),
        )
        out = []
        if totals["latest"] is not None:
            out.append((_date(found.due(rule, totals["latest"])), totals["n"] - totals["missing"]))
        if totals["missing"]:
            out.append((words, totals["missing"]))
        return out
    selectors._read_mapped({rule: clocks}, rows)
    latest, started, waiting = None, 0, 0
    for row in selectors._annotate(rows, {rule: clocks}).iterator(chunk_size=2000):
        due = selectors.disposal_for(rule, {rule: clocks}, row).at
        if due is None:
            waiting += 1
        else:
            started += 1
            latest = due if latest is None or due > latest else latest
    out = []
    if latest is not None:
        out.append((_date(latest), started))
    if waiting:
        out.append((words, waiting))
    return out


def _empty(value) -> bool:
    return value in (None, "", [], {})


def _holding(kind, field_name: str, rows) -> list:
    """The rows with a value in the field (read one by one: an encrypted empty value is not
    empty in the database)."""
    attname = kind.model._meta.get_field(field_name).attname
    return [
        row.pk
        for row in rows.only("pk", attname).iterator(chunk_size=500)
        if not _empty(getattr(row, attname))
    ]


def _delete_rows(kind, doomed) -> None:
    custom = next(
        (
            d.delete
            for d in retention_rules.for_model(kind.label)
            if d.delete is not None and d.with_parent is None
        ),
        None,
    )
    if custom is not None:
        ids = list(doomed.values_list("pk", flat=True))
        if ids:
            custom(ids)
        return
    doomed.delete()


def _empty_field(kind, field_name: str, doomed) -> None:
    model_field = kind.model._meta.get_field(field_name)
    empty = model_field.get_default()
    companions = [
        f.name
        for f in kind.model._meta.concrete_fields
        if isinstance(f, BlindIndexField) and f.source == field_name
    ]
    for row in doomed.iterator(chunk_size=500):
        setattr(row, model_field.attname, empty)
        row.save(update_fields=[field_name, *companions])


def _carry_out_entry(key: str, member, request, now) -> list[dict]:
    parsed = parse(key)
    if parsed is None:
        return []  # its declaration has gone since the request was made
    kind, field_name = parsed
    label = selectors.entry_label(kind, field_name)
    rows = kind.rows(member.pk)
    if request is not None and kind.model is RightsRequest:
        rows = rows.exclude(pk=request.pk)  # the request being answered is kept, and answered
    if field_name is not None:
        rows = rows.filter(pk__in=_holding(kind, field_name, rows))
    kept: list[dict] = []
    keep = Q(pk__in=[])
    for rule, condition in _partitions(kind, field_name).items():
        if _ends_on_request(rule):
            continue
        under_rule = rows.filter(condition).exclude(_past(kind, rule, rows.filter(condition), now))
        if not under_rule.exists():
            continue
        keep |= Q(pk__in=under_rule.values("pk"))
        for until, count in _until(kind, rule, under_rule):
            kept.append(
                {"entry": key, "label": label, "rule": str(rule.label), "until": until, "count": count}
            )
    in_use = IN_USE.get(kind.label)
    if in_use is not None:
        held = rows.filter(in_use.rows(member, request)).exclude(keep)
        count = held.count()
        if count:
            rule = _main_rule(kind, field_name)
            kept.append(
                {
                    "entry": key,
                    "label": label,
                    "rule": str(rule.label),
                    "until": in_use.until(),
                    "count": count,
                }
            )
            keep |= Q(pk__in=held.values("pk"))
    doomed = rows.exclude(keep)
    if field_name is None:
        _delete_rows(kind, doomed)
    else:
        _empty_field(kind, field_name, doomed)
    return kept


def _main_rule(kind, field_name) -> RetentionRule:
    if field_name is not None:
        return kind.declaration.fields[field_name].retention
    if kind.declaration.record is not None:
        return kind.declaration.record.retention
    return kind.personal_fields()[0].retention


def carry_out(request) -> list[dict]:
    """Delete what the request names that no rule keeps now; return what is kept:
    ``[{"entry", "label", "rule", "until", "count"}]``, in the member's language (the answer's
    email prints them). Runs in the transaction of ``services.request_complete``."""
    from kirakira.privacy.retention.models import LegalHold

    member = request.member
    now = clock.now()
    if LegalHold.objects.active(now).filter(subject_id=member.pk).exists():
        raise ValidationError(
            _(
                "This member's data is under a legal hold and cannot be deleted now: refuse the request "
                "citing ground ①, with an explanation."
            ),
            code="held",
        )
    kept: list[dict] = []
    with translation.override(member.language):
        for key in request.entries or []:
            kept.extend(_carry_out_entry(key, member, request, now))
    journal.append_on_commit(journal.RIGHTS_DELETION, subject_id=member.pk, entries=list(request.entries or []), at=now)
    return kept


def deletion_replay(*, subject_id, entries, at) -> bool:
    """Delete again, after a restore, what a member had deleted after the backup was taken: the
    same entries, judged by the rules at ``at`` (a held member keeps everything). False if the
    member is not in the restored database or is held."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from kirakira.privacy.retention.models import LegalHold

    member = get_user_model()._base_manager.filter(pk=subject_id).first()
    if member is None or LegalHold.objects.active(clock.now()).filter(subject_id=member.pk).exists():
        return False
    with transaction.atomic(), translation.override(member.language):
        for key in entries:
            _carry_out_entry(key, member, None, at)
    return True


__all__ = ["IN_USE", "carry_out", "clean_entries", "deletable_entries", "deletion_replay", "entry_label", "parse"]
