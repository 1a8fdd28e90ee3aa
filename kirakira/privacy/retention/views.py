"""The retention back office's own pages, wired into the admin by ``admin.py``: the disposal
certificate of a run, the forecast of what falls due, and the reading of a record in separate
storage. Each is reached only through the admin's ``admin_view`` (login, the gate) after its
admin has checked the permission."""

import datetime

from django import forms
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models, transaction
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kirakira.common import clock
from kirakira.privacy.access_log.review_charts import BAR, MUTED, _line, _rect, _svg, _text
from kirakira.privacy.access_log.services import Action, record
from kirakira.privacy.crypto.fields import BlindIndexField
from kirakira.privacy.policy.content import studio

from . import selectors, services
from .models import DisposalCount, DisposalRun, RetainedRecord

# --- the certificate ----------------------------------------------------------------------------


def certificate_filename(run: DisposalRun) -> str:
    return f"disposal-certificate-{clock.now():%Y%m%d}-{str(run.pk)[:8]}.html"


def certificate_response(request, *, run: DisposalRun) -> HttpResponse:
    """The run's certificate as a file to keep: one HTML document with nothing to load (no
    style sheet, script or image), printable as it is, in the language of the page it was
    asked from. Its download is in the staff access log, written with the document."""
    counts = selectors.run_counts(run=run)
    held = DisposalCount.Method.HELD
    context = {
        "run": run,
        "studio": studio(),
        "counts": counts,
        "disposed": sum(row.count for row in counts if row.method != held),
        "kept": sum(row.count for row in counts if row.method == held),
        "issued_at": clock.now(),
        "issued_by": request.user,
        "finished": run.status != DisposalRun.Status.RUNNING,
    }
    with transaction.atomic():
        started_by = run.started_by_id
        record(
            actor=request.user,
            action=Action.DOWNLOAD,
            request=request,
            model=DisposalRun,
            object_id=run.pk,
            fields=["privacy.DisposalRun.started_by"] if started_by else [],
            subjects=[started_by] if started_by and started_by != request.user.pk else [],
        )
        document = render_to_string("admin/privacy/disposalrun/certificate.html", context, request=request)
    response = HttpResponse(document, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{certificate_filename(run)}"'
    return response


# --- the forecast -------------------------------------------------------------------------------


def forecast_chart(forecast: selectors.Forecast) -> SafeString:
    """Records falling due in each of the next twelve months, one bar per month (drawn as the
    access review's charts are: inline SVG, no script, no style)."""
    totals = forecast.by_month
    step, plot_height, left, bottom = 48, 120, 44, 18
    top = max(max(totals, default=0), 1)
    scale = plot_height / top
    parts = [_text(left - 6, 12, str(top), anchor="end", size=9, fill=MUTED)]
    for index, (month, total) in enumerate(zip(forecast.months, totals, strict=True)):
        x = left + index * step
        label = f"{month:%Y-%m}"
        if total:
            height = total * scale
            parts.append(_rect(x + 4, 6 + plot_height - height, step - 8, height, BAR, f"{label}: {total}"))
            parts.append(_text(x + step / 2, 2 + plot_height - height, str(total), anchor="middle", size=9))
        parts.append(_text(x + step / 2, 6 + plot_height + bottom - 4, label, anchor="middle", size=9))
    right = left + len(forecast.months) * step
    parts.append(_line(left, 6 + plot_height, right, 6 + plot_height, MUTED))
    title = _("Records falling due for disposal in each of the next twelve months")
    return _svg(right + 8, 6 + plot_height + bottom, title, parts)


def forecast_page(request, *, model_admin) -> TemplateResponse:
    forecast = selectors.retention_forecast()
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": _("What falls due for disposal"),
        "subtitle": None,
        "forecast": forecast,
        "horizons": selectors.HORIZONS,
        "rows": [
            {"row": row, "period": row.rule.period_label, "within": row.within} for row in forecast.rows
        ],
        "months": list(zip(forecast.months, forecast.by_month, strict=True)),
        "chart": forecast_chart(forecast),
        "not_forecast": [
            {"model_name": selectors.model_name(d.model_label), "rule": d.rule.label, "event": d.event}
            for d in forecast.not_forecast
        ],
        "ledger_url": reverse(f"{model_admin.admin_site.name}:privacy_disposalrun_changelist"),
    }
    return TemplateResponse(request, "admin/privacy/disposalrun/forecast.html", context)


# --- reading separate storage -------------------------------------------------------------------


class ReadForm(forms.Form):
    reason = forms.ChoiceField(
        label=gettext_lazy("Why do you need to read this record?"),
        choices=[("", "---------"), *services.ReadingReason.choices],
        required=False,  # checked by the service, whose refusal is logged
    )
    reference = forms.CharField(
        label=gettext_lazy("Case reference"),
        help_text=gettext_lazy(
            "The case, request or dispute this reading is for (a number or a short description)."
        ),
        max_length=services.REFERENCE_MAX,
        required=False,
    )


# Lists in a record's content, and the kind of row each holds (for the fields' names).
_CHILDREN = {
    "payments": "orders.Payment",
    "refunds": "orders.Refund",
    "cancellation": "orders.Cancellation",
    "events": "orders.OrderEvent",
    "receipts": "orders.Receipt",
    "messages": "consultations.Message",
    "attachments": "consultations.Attachment",
    "policy_acknowledgements": "privacy.PolicyAcknowledgement",
    "terms_agreements": "legal.TermsAgreement",
}
# An attachment is named, never opened: its name and size, not its content.
_ONLY = {"consultations.Attachment": ("filename", "size")}
# Copied from an order for reading without the catalogue rows it pointed to.
_EXTRA_LABELS = {
    "service_name": gettext_lazy("service"),
    "platform": gettext_lazy("platform"),
}


def _model(label: str):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _field(model, attname: str):
    if model is None:
        return None
    for field in model._meta.concrete_fields:
        if field.attname == attname:
            return field
    try:
        return model._meta.get_field(attname)
    except FieldDoesNotExist:
        return None


def _shown_value(field, value) -> str:
    if value is None or value == "":
        return "—"
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            return value
        return f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S %Z}" if timezone.is_aware(moment) else value
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, (list, dict)):
        return ", ".join(str(item) for item in value) if isinstance(value, list) else str(value)
    return str(value)


def content_section(label: str, data, title: str = "") -> dict:
    """A record's content as nested sections of (field name, value) rows: each list of rows in
    it (payments, messages, attachments) a section of its own. Hashes and binary content are
    left out; an attachment shows its name and size only."""
    model = _model(label)
    only = _ONLY.get(label)
    rows, children = [], []
    for key, value in (data or {}).items():
        if only is not None and key not in only:
            continue
        if key in _CHILDREN:
            child_label = _CHILDREN[key]
            child_model = _model(child_label)
            name = str(child_model._meta.verbose_name) if child_model is not None else key
            items = value if isinstance(value, list) else ([value] if value else [])
            for number, item in enumerate(items, start=1):
                children.append(content_section(child_label, item, f"{name} {number}"))
            continue
        if key.endswith("_id") and (key[:-3] in data or f"{key[:-3]}_name" in data):
            continue  # the key of a row whose readable copy is kept beside it (the service's name)
        field = _field(model, key)
        if isinstance(field, (models.BinaryField, BlindIndexField)):
            continue
        if field is not None:
            name = str(field.verbose_name)
        else:
            name = str(_EXTRA_LABELS.get(key, key))
        rows.append({"name": name, "value": _shown_value(field, value)})
    if not title:
        title = str(model._meta.verbose_name) if model is not None else label
    return {"title": title, "rows": rows, "children": children}


def retained_read_page(request, *, model_admin, retained: RetainedRecord) -> TemplateResponse:
    """GET: the form (a reason and a case reference). POST: the record's content, on this
    answer only, once the reading is in the staff access log."""
    content = None
    unreadable = False
    form = ReadForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            data = services.retained_record_read(
                actor=request.user,
                record_id=retained.pk,
                reason=form.cleaned_data["reason"],
                reference=form.cleaned_data["reference"],
                request=request,
            )
        except ValidationError as exc:
            for field_name, errors in exc.message_dict.items():
                form.add_error(field_name if field_name in form.fields else None, errors)
        else:
            if isinstance(data, dict):
                content = content_section(retained.source, data)
            else:  # the key is destroyed: what is left cannot be read by anyone
                unreadable = True
    info = model_admin.opts.app_label, model_admin.opts.model_name
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "original": retained,
        "title": _("Read a record in separate storage"),
        "subtitle": None,
        "form": form,
        "content": content,
        "unreadable": unreadable,
        "kind": selectors.kind_name(retained.source),
        "change_url": reverse(
            f"{model_admin.admin_site.name}:{info[0]}_{info[1]}_change", args=[retained.pk]
        ),
    }
    return TemplateResponse(request, "admin/privacy/retainedrecord/read.html", context)


def subject_reference(subject_id) -> str:
    """The pseudonymous name a list gives a former member: the start of their ID."""
    return str(subject_id)[:8]


def match_lines(matches, *, admin_site_name: str) -> list[SafeString]:
    lines = []
    for match in matches:
        url = reverse(f"{admin_site_name}:accounts_user_change", args=[match.user_id])
        when = f"{timezone.localtime(match.matched_at):%Y-%m-%d}"
        lines.append(
            format_html(
                '<a href="{}">{}</a>',
                url,
                _("A new account registered with this address on %(date)s.") % {"date": when},
            )
        )
    return lines
