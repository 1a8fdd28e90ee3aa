"""The reports to the authorities, filled in from the register: the Japanese PPC's items (APPI
rules art. 8: preliminary and final) in Japanese, the Korean PIPC's (PIPA art. 34 and decree
art. 40) in Korean. Downloaded as text to paste into the authority's form."""

from django.template.loader import render_to_string
from django.utils import translation

from kirakira.common import clock

from . import clocks as legal_clocks
from . import selectors
from .models import BreachNotice, PublicNotice

LANGUAGE = {legal_clocks.KR_REPORT: "ko", legal_clocks.JP_PRELIMINARY: "ja", legal_clocks.JP_FINAL: "ja"}


def report(incident, kind: str) -> tuple[str, str]:
    """(file name, text) of the report ``kind`` (one of LANGUAGE's keys)."""
    notices = BreachNotice.objects.filter(incident=incident)
    public = PublicNotice.objects.filter(incident=incident).first()
    with translation.override(LANGUAGE[kind]):
        text = render_to_string(
            "breaches/report.txt",
            {
                **selectors.notice_content(incident),
                "kind": kind,
                "title": legal_clocks.LABELS[kind],
                "final": kind == legal_clocks.JP_FINAL,
                "notified": notices.count(),
                "emailed": notices.filter(emailed_at__isnull=False).count(),
                "public": public,
                "made_at": clock.now(),
            },
        )
    return f"incident-{incident.reference}-{kind}.txt", text
