#!/usr/bin/env python
"""Overhead of the usage-log middleware: requests/s of the member page with the log on and off.

Run from the project root::

    .venv/bin/python bench/usage_log.py                      # both databases if PostgreSQL answers
    .venv/bin/python bench/usage_log.py --sqlite             # SQLite only
    .venv/bin/python bench/usage_log.py --database-url postgres://postgres@127.0.0.1:5432/bench_usage
    .venv/bin/python bench/usage_log.py --all                # SQLite, then PostgreSQL

Each database is measured in its own child process (Django reads its settings once). The child
works on a throwaway database: a fresh SQLite file in a temporary ``KIRAKIRA_VAR_DIR``, or a
PostgreSQL database that it creates and drops again (only a database whose name starts with
``bench`` is ever dropped). It migrates, creates a confirmed member, pre-fills the usage table
with 100,000 rows so that index maintenance is counted, then drives ``GET /accounts/mypage/``
through Django's test client (the full WSGI handler and middleware stack, in-process, no
network noise) after a warm-up. ``USAGE_LOG_ENABLED`` is read by the middleware on every
request, so flipping the setting is enough to switch the log. A round makes 1,000 requests with
the log ON and 1,000 with it OFF, alternating in blocks of 20 (ABBA order), so that both modes
see the same load of a shared, noisy machine; the reported figures are medians over 5 rounds,
and the ratio is the median of the rounds' ON/OFF. Each round checks that exactly one row per
ON request was written, and the last row's columns are checked at the end. Logged rows are
kept (they add ~1% to the table). ``DEBUG`` is off, as in production.
"""

import argparse
import gc
import statistics
import sys
import time
from datetime import timedelta

import harness  # bench/, the scripts' own directory, is on sys.path

ROOT = harness.ROOT
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/bench_usage"
TARGET = 0.90
PAGE = "/accounts/mypage/"


# --- Parent: choose the databases, run one child per database, summarise --------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--database-url", help="PostgreSQL URL of a throwaway database (created, dropped)")
    which.add_argument("--all", action="store_true", help="SQLite, then PostgreSQL at --pg-url")
    which.add_argument("--sqlite", action="store_true", help="SQLite only")
    parser.add_argument(
        "--pg-url", default=DEFAULT_PG_URL, help=f"PostgreSQL for --all (default {DEFAULT_PG_URL})"
    )
    parser.add_argument("--rounds", type=int, default=5, help="ON/OFF round pairs (default 5)")
    parser.add_argument("--requests", type=int, default=1000, help="requests per round (default 1000)")
    parser.add_argument("--block", type=int, default=20, help="requests per ON or OFF block (default 20)")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up requests per mode (default 200)")
    parser.add_argument("--prefill", type=int, default=100_000, help="usage rows before measuring")
    parser.add_argument("--profile", action="store_true", help="also profile one ON round (cProfile)")
    parser.add_argument("--check", action="store_true", help=f"exit 1 if a ratio is below {TARGET}")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        return child(args)

    targets = harness.targets(args, args.pg_url)
    results = [harness.run_child(__file__, url, harness.child_args(args)) for url in targets]
    print("\n=== Summary: requests/s (median of rounds), ON/OFF (median of the rounds' ratios) ===")
    print(
        f"{'database':<12}{'log ON':>9}{'log OFF':>9}{'ON/OFF':>8}{'(medians)':>11}  target >= {TARGET:.2f}"
    )
    failed = missed = False
    for url, result in zip(targets, results, strict=True):
        if result is None:
            print(f"{'PostgreSQL' if url else 'SQLite':<12}{'failed':>9}")
            failed = True
            continue
        met = result["ratio"] >= TARGET
        missed |= not met
        print(
            f"{result['label']:<12}{result['on_rps']:>9.0f}{result['off_rps']:>9.0f}{result['ratio']:>8.3f}"
            f"{result['ratio_of_medians']:>11.3f}  {'met' if met else 'MISSED'}"
        )
    return 1 if failed or (args.check and missed) else 0


# --- Child: one database, set up, measure ----------------------------------------------------


def child(args) -> int:
    return harness.in_throwaway_database(_child_measure, args)


def _setup(prefill: int):
    from django.core.management import call_command
    from django.db import connection

    from kirakira.accounts.models import User
    from kirakira.common import clock
    from kirakira.usage.models import UsageRecord

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    member = User.objects.create_user(
        login_id="benchmember",
        name="Bench Member",
        email="bench-member@example.com",
        password="a-long-bench-password-42",
    )
    member.email_confirmed_at = clock.now()
    member.save(update_fields=["email_confirmed_at"])

    # Other members, so that the (member, occurred_at) index looks like a real one.
    others = User.objects.bulk_create(
        User(
            login_id=f"member{i:05d}",
            name=f"Member {i}",
            email=f"member{i:05d}@example.com",
            password="!",  # unusable
            email_confirmed_at=clock.now(),
        )
        for i in range(500)
    )
    migrated = time.perf_counter()

    # Usage rows spread over the six months the log is kept, from all members, generated by the
    # database itself in one statement (building 100,000 model instances takes far longer).
    step = timedelta(days=180).total_seconds() / max(prefill, 1)
    if connection.vendor == "postgresql":
        occurred_at = "now() - make_interval(secs => (%s - seq.i) * %s)"
        ip_address = "('198.51.100.' || (seq.i %% 250 + 1))::inet"
    else:
        occurred_at = "strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now', '-' || ((%s - seq.i) * %s) || ' seconds')"
        ip_address = "'198.51.100.' || (seq.i %% 250 + 1)"
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(UsageRecord._meta.get_field(name).column)
        for name in ("member", "occurred_at", "ip_address", "method", "route", "status_code")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < %s),
            members AS (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k FROM {quote(User._meta.db_table)})
            INSERT INTO {quote(UsageRecord._meta.db_table)} ({columns})
            SELECT members.id, {occurred_at}, {ip_address},
                CASE WHEN seq.i %% 5 = 0 THEN 'POST' ELSE 'GET' END,
                CASE seq.i %% 4 WHEN 0 THEN 'accounts:mypage' WHEN 1 THEN 'home'
                    WHEN 2 THEN 'api:me' ELSE 'privacy:policy' END,
                CASE WHEN seq.i %% 11 = 0 THEN 302 ELSE 200 END
            FROM seq JOIN members ON members.k = (seq.i * 7919) %% %s
            """,  # noqa: S608 - identifiers from the models, values are parameters
            [prefill, prefill, step, 1 + len(others)],
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(
        f"setup: {connection.vendor}, migrated, 1 member + {len(others)} others, "
        f"{UsageRecord.objects.count():,} usage rows (migrations and members "
        f"{migrated - started:.1f}s, usage rows {time.perf_counter() - migrated:.1f}s)",
        flush=True,
    )
    return member


def _run(client, n: int) -> float:
    """n GETs of the member page; the seconds they took."""
    get = client.get
    started = time.perf_counter()
    for _ in range(n):
        response = get(PAGE)
        if response.status_code != 200:
            raise SystemExit(f"{PAGE} answered {response.status_code}, not 200")
    return time.perf_counter() - started


def _round(client, settings, requests: int, block: int, first: bool) -> dict[bool, float]:
    """requests GETs in each mode, in alternating blocks; requests/s of each mode.

    Blocks of a fraction of a second, ABBA-ordered, put both modes under the same load of the
    machine, so the ratio of one round is meaningful even when the machine is busy.
    """
    elapsed = {True: 0.0, False: 0.0}
    done = 0
    order = (first, not first)
    while done < requests:
        n = min(block, requests - done)
        for enabled in order:
            settings.USAGE_LOG_ENABLED = enabled
            elapsed[enabled] += _run(client, n)
        order = order[::-1]
        done += n
    return {enabled: requests / seconds for enabled, seconds in elapsed.items()}


def _child_measure(args) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from kirakira.common import clock
    from kirakira.usage.models import UsageRecord

    if "kirakira.usage.middleware.UsageLogMiddleware" not in settings.MIDDLEWARE:
        raise SystemExit("the usage-log middleware is not in MIDDLEWARE")
    member = _setup(args.prefill)
    client = Client(REMOTE_ADDR="203.0.113.7")
    client.force_login(member)
    logged = UsageRecord.objects.filter(member=member)

    for enabled in (True, False):
        settings.USAGE_LOG_ENABLED = enabled
        _run(client, args.warmup)

    on, off, ratios = [], [], []
    print(f"{'round':>5}{'ON req/s':>11}{'OFF req/s':>11}{'ON/OFF':>9}", flush=True)
    for round_no in range(args.rounds):
        before = logged.count()
        gc.collect()
        rates = _round(client, settings, args.requests, args.block, first=round_no % 2 == 0)
        added = logged.count() - before
        if added != args.requests:  # exactly one row per request with the log ON, none with it OFF
            raise SystemExit(f"{added} rows logged in a round, expected {args.requests}")
        on.append(rates[True])
        off.append(rates[False])
        ratios.append(rates[True] / rates[False])
        print(f"{round_no + 1:>5}{rates[True]:>11.0f}{rates[False]:>11.0f}{ratios[-1]:>9.3f}", flush=True)

    last = logged.latest("id")
    seen = (last.method, last.route, last.status_code, last.ip_address)
    if (
        seen != ("GET", "accounts:mypage", 200, "203.0.113.7")
        or abs(clock.now() - last.occurred_at).seconds > 60
    ):
        raise SystemExit(f"the last logged row is wrong: {seen} at {last.occurred_at}")

    if args.profile:
        import cProfile
        import pstats

        settings.USAGE_LOG_ENABLED = True
        profiler = cProfile.Profile()
        profiler.runcall(_run, client, args.requests)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats("usage|cursor|execute", 25)

    result = {
        "vendor": connection.vendor,
        "on_rps": statistics.median(on),
        "off_rps": statistics.median(off),
        "ratio": statistics.median(ratios),
        "ratio_of_medians": statistics.median(on) / statistics.median(off),
        "rounds": args.rounds,
        "requests": args.requests,
        "usage_rows": UsageRecord.objects.count(),
    }
    print(
        f"median: ON {result['on_rps']:.0f} req/s, OFF {result['off_rps']:.0f} req/s, "
        f"ON/OFF {result['ratio']:.3f} (ratio of medians {result['ratio_of_medians']:.3f}), "
        f"{result['usage_rows']:,} usage rows at the end",
        flush=True,
    )
    harness.report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
