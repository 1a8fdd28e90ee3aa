import json

from django.core.management.base import BaseCommand

from kirakira.privacy.catalog import catalog


class Command(BaseCommand):
    help = "Print the privacy catalog: every personal field, its item, purposes, retention, protection and visibility."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
        parser.add_argument("--role", help="only what this staff role may see")
        parser.add_argument("--rule", help="only fields under this retention rule (its code)")

    def handle(self, *args, json: bool = False, role=None, rule=None, **options):
        rows = catalog.as_rows()
        if role:
            rows = [r for r in rows if role in r["full"] or role in r["masked"]]
        if rule:
            rows = [r for r in rows if r["retention"] == rule]
        if json:
            self.stdout.write(_json_dumps(rows))
            return
        columns = [
            "model",
            "field",
            "items",
            "context",
            "purposes",
            "retention",
            "protection",
            "full",
            "masked",
        ]
        table = [[_cell(row[c]) for c in columns] for row in rows]
        widths = [max([len(c), *(len(r[i]) for r in table)]) for i, c in enumerate(columns)]
        self.stdout.write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
        self.stdout.write("  ".join("-" * w for w in widths))
        for r in table:
            self.stdout.write("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))
        self.stdout.write(f"\n{len(rows)} entries")


def _cell(value) -> str:
    if isinstance(value, list):
        return ",".join(value) or "-"
    return "-" if value in (None, "") else str(value)


def _json_dumps(rows) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=2)
