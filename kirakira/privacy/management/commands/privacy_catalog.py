import json

from django.core.management.base import BaseCommand

from kirakira.privacy.catalog import catalog


class Command(BaseCommand):
    help = "Print the privacy catalog: every personal field, its item, purposes, retention, protection and visibility."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
        parser.add_argument("--role", help="only what this staff role may see")
        parser.add_argument("--rule", help="only fields under this retention rule (its code)")
        parser.add_argument(
            "--retention",
            action="store_true",
            help="print how each model's personal data is disposed of: rule, period, clock, the event that "
            "starts it, and how the rows go",
        )
        parser.add_argument(
            "--roles",
            action="store_true",
            help="print the staff roles' declarations (policy group, permissions, consultations) as a "
            "Markdown table, as the README shows them",
        )

    def handle(
        self, *args, json: bool = False, role=None, rule=None, roles: bool = False, retention=False, **options
    ):
        if roles:
            self.stdout.write(role_matrix())
            return
        if retention:
            self._retention(json, rule)
            return
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

    def _retention(self, as_json: bool, rule) -> None:
        from django.utils import translation

        from kirakira.privacy.retention.rules import described

        with translation.override("en"):
            rows = [r for r in described() if rule is None or r["rule"] == rule]
        if as_json:
            self.stdout.write(_json_dumps(rows))
            return
        columns = ["model", "rule", "period", "clock", "how", "event"]
        table = [[str(row[c]) for c in columns] for row in rows]
        widths = [max([len(c), *(len(r[i]) for r in table)]) for i, c in enumerate(columns)]
        self.stdout.write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
        self.stdout.write("  ".join("-" * w for w in widths))
        for r in table:
            self.stdout.write("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))
        self.stdout.write(f"\n{len(rows)} disposals")


def role_matrix() -> str:
    """The roles as kirakira.common.roles declares them, one column per role."""
    from kirakira.common.roles import ROLE_DECLARATIONS

    codes = [d.code for d in ROLE_DECLARATIONS]
    lines = [
        "| | " + " | ".join(f"`{code}`" for code in codes) + " |",
        "|---|" + ":-:|" * len(codes),
        "| policy group (管理的対策 ①) | "
        + " | ".join(str(d.policy_group or "?") for d in ROLE_DECLARATIONS)
        + " |",
        "| consultations routed | "
        + " | ".join(", ".join(sorted(d.consultations)) for d in ROLE_DECLARATIONS)
        + " |",
        "| the officer's desk | "
        + " | ".join("✓" if d.officer_desk else "" for d in ROLE_DECLARATIONS)
        + " |",
    ]
    for permission in sorted({p for d in ROLE_DECLARATIONS for p in d.permissions}):
        marks = " | ".join("✓" if permission in d.permissions else "" for d in ROLE_DECLARATIONS)
        lines.append(f"| `{permission}` | {marks} |")
    return "\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, list):
        return ",".join(value) or "-"
    return "-" if value in (None, "") else str(value)


def _json_dumps(rows) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=2)
