#!/usr/bin/env python
"""A member's export (issue 14, "Download my data") at volume: ``rights.export.build`` for a
member with 10,000 orders and 100,000 usage-log rows, against the time to merely read those rows.

Run from the project root::

    .venv/bin/python bench/export.py                      # both databases if PostgreSQL answers
    .venv/bin/python bench/export.py --sqlite             # SQLite only
    .venv/bin/python bench/export.py --database-url postgres://postgres@127.0.0.1:5432/bench_export
    .venv/bin/python bench/export.py --all                # SQLite, then PostgreSQL

Each database is measured in its own child process, on a throwaway database (a fresh SQLite
file, or a PostgreSQL database whose name starts with ``bench``, created and dropped again; see
``harness.py``). The child migrates and creates the member, with ``--orders`` orders (their SNS
account ID, photo links, note and phone encrypted under the member's key, as the site writes
them: ``Order`` instances through ``bulk_create``) and ``--usage`` usage-log rows, plus 50 other
members with a tenth as many each, so that the member's rows are found by index among others.

Measured, per round (ABBA order, so both see the same load of a shared machine):

- ``build()``: the whole export, end to end — the rows read twice (data.json, index.html), every
  encrypted value decrypted, JSON and HTML written, deflated, encrypted into the export file,
  and the request marked done (its email queued);
- the baseline: the same rows merely read — the orders as instances with their four encrypted
  fields decrypted, the usage rows as tuples — and nothing written.

The figures are medians over the rounds; the ratio is the median of the rounds' build / baseline.
Then, outside the timed rounds: the number of queries of one build, and of one for a member
with a hundredth of the rows (they must be equal); Python's peak allocation during one build
(``tracemalloc``: what the build holds at once, whatever the size of the ZIP); and the ZIP is
opened and its rows counted. ``DEBUG`` is off, as in production.
"""

import argparse
import gc
import json
import resource
import statistics
import sys
import time
import uuid

import harness  # bench/, the scripts' own directory, is on sys.path

ROOT = harness.ROOT
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/bench_export"
TARGET_SECONDS = 5.0
OTHER_MEMBERS = 50


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
    parser.add_argument("--rounds", type=int, default=3, help="rounds of build and baseline (default 3)")
    parser.add_argument("--orders", type=int, default=10_000, help="the member's orders (default 10,000)")
    parser.add_argument(
        "--usage", type=int, default=100_000, help="the member's usage rows (default 100,000)"
    )
    parser.add_argument("--profile", action="store_true", help="also profile one build (cProfile)")
    parser.add_argument(
        "--check", action="store_true", help=f"exit 1 if a build takes {TARGET_SECONDS} s or more"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        return child(args)

    targets = harness.targets(args, args.pg_url)
    passed = [f"--rounds={args.rounds}", f"--orders={args.orders}", f"--usage={args.usage}"]
    passed += ["--profile"] if args.profile else []
    results = [harness.run_child(__file__, url, passed) for url in targets]
    return summarise(targets, results, args.check)


def summarise(targets, results, check: bool) -> int:
    print("\n=== Summary: seconds (median of rounds); ratio = build / baseline (median of the rounds) ===")
    print(
        f"{'database':<12}{'rows':>16}{'build':>9}{'baseline':>10}{'ratio':>8}{'ZIP':>9}"
        f"{'queries':>9}{'(1/100)':>9}{'peak alloc':>12}  target < {TARGET_SECONDS:.0f} s"
    )
    failed = missed = False
    for url, result in zip(targets, results, strict=True):
        if result is None:
            print(f"{'PostgreSQL' if url else 'SQLite':<12}{'failed':>16}")
            failed = True
            continue
        met = result["build_s"] < TARGET_SECONDS and result["queries"] == result["queries_small"]
        missed |= not met
        rows = f"{result['orders']:,}+{result['usage']:,}"
        print(
            f"{result['label']:<12}{rows:>16}{result['build_s']:>8.2f}s{result['baseline_s']:>9.2f}s"
            f"{result['ratio']:>8.2f}{result['zip_mb']:>6.1f} MB{result['queries']:>9}{result['queries_small']:>9}"
            f"{result['peak_alloc_mb']:>9.1f} MB  {'met' if met else 'MISSED'}"
        )
    return 1 if failed or (check and missed) else 0


# --- Child: one database, set up, measure ----------------------------------------------------


def child(args) -> int:
    return harness.in_throwaway_database(_child_measure, args)


def _member(login_id: str):
    from kirakira.accounts.models import User
    from kirakira.common import clock

    member = User.objects.create_user(
        login_id=login_id, name=f"Bench {login_id}", email=f"{login_id}@example.com", password="!"
    )
    member.email_confirmed_at = clock.now()
    member.save(update_fields=["email_confirmed_at"])
    return member


def _fill(member, orders: int, usage: int, service, platform) -> None:
    """``orders`` orders, encrypted as the site writes them, and ``usage`` usage rows."""
    from datetime import timedelta

    from kirakira.common import clock
    from kirakira.orders.models import Order
    from kirakira.usage.models import UsageRecord

    now = clock.now()
    for start in range(0, orders, 1000):
        Order.objects.bulk_create(
            Order(
                id=uuid.uuid4(),
                reference=uuid.uuid4().hex[:12].upper(),
                member=member,
                service=service,
                platform=platform,
                price_yen=3000,
                sns_account_id=f"bench.account.{start + i}",
                photo_links=[f"https://photos.example.com/{start + i}.jpg"],
                note="納期はいつ頃になりますか。" if i % 3 == 0 else "",
                phone="090-1234-5678",
                status="completed",
                created_at=now - timedelta(minutes=start + i),
                updated_at=now,
            )
            for i in range(min(1000, orders - start))
        )
    step = timedelta(days=180) / max(usage, 1)
    for start in range(0, usage, 10_000):
        UsageRecord.objects.bulk_create(
            UsageRecord(
                member=member,
                occurred_at=now - step * (start + i),
                ip_address=f"198.51.100.{(start + i) % 250 + 1}",
                method="GET" if i % 5 else "POST",
                route=("accounts:mypage", "home", "api:me", "orders:detail")[i % 4],
                status_code=200 if i % 11 else 302,
            )
            for i in range(min(10_000, usage - start))
        )


def _setup(orders: int, usage: int):
    from django.core.management import call_command
    from django.db import connection

    from kirakira.orders.models import Service, SnsPlatform

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    service = Service.objects.create(
        name_ja="写真レタッチ",
        name_en="Photo retouch",
        name_ko="사진 보정",
        description_ja="説明",
        description_en="d",
        description_ko="d",
        price_yen=3000,
        photo_link_count=1,
    )
    platform = SnsPlatform.objects.order_by("pk").first()
    migrated = time.perf_counter()
    member = _member("benchmember")
    _fill(member, orders, usage, service, platform)
    small = _member("benchsmall")
    _fill(small, max(orders // 100, 1), max(usage // 100, 1), service, platform)
    for n in range(OTHER_MEMBERS):
        _fill(
            _member(f"other{n:03d}"),
            orders // 10 // OTHER_MEMBERS,
            usage // 10 // OTHER_MEMBERS,
            service,
            platform,
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(
        f"setup: {connection.vendor}, migrated in {migrated - started:.1f}s; the member with {orders:,} orders and "
        f"{usage:,} usage rows, one with a hundredth, {OTHER_MEMBERS} others with a tenth between them "
        f"({time.perf_counter() - migrated:.1f}s)",
        flush=True,
    )
    return member, small


def _baseline(member) -> float:
    """Seconds to read the member's rows and decrypt their values, writing nothing."""
    from kirakira.orders.models import Order
    from kirakira.usage.models import UsageRecord

    started = time.perf_counter()
    values = []
    for order in Order._base_manager.filter(member=member).iterator(chunk_size=2000):
        values[:] = (order.sns_account_id, order.photo_links, order.note, order.phone)
    columns = ("pk", "member_id", "occurred_at", "ip_address", "method", "route", "status_code")
    for _row in UsageRecord.objects.filter(member=member).values_list(*columns).iterator(2000):
        pass
    return time.perf_counter() - started


def _request(member):
    from datetime import timedelta

    from kirakira.common import clock
    from kirakira.privacy.rights.models import RightsRequest

    now = clock.now()
    return RightsRequest.objects.create(
        member=member, kind="export", received_at=now, due_at=now + timedelta(days=10)
    )


def _build(member) -> tuple[float, object]:
    from kirakira.privacy.rights import export

    request = _request(member)
    started = time.perf_counter()
    export.build(request.pk)
    elapsed = time.perf_counter() - started
    request.refresh_from_db()
    if request.status != "done":
        raise SystemExit(f"the export ended {request.status}, not done")
    return elapsed, request


def _queries(member) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kirakira.privacy.crypto import datakeys
    from kirakira.privacy.rights import export

    request = _request(member)
    datakeys.clear_cache()  # both counts include the member's data key, however long ago it was read
    with CaptureQueriesContext(connection) as captured:
        export.build(request.pk)
    return len(captured)


def _peak_allocation(member) -> float:
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        _build(member)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def _check(request, orders: int, usage: int) -> None:
    """The ZIP opens and holds every row (read whole here, after the measurements)."""
    import io
    import zipfile

    from kirakira.privacy.rights import export_files

    archive = zipfile.ZipFile(io.BytesIO(b"".join(export_files.read(request))))
    if archive.testzip() is not None:
        raise SystemExit("the ZIP is damaged")
    records = json.loads(archive.read("data.json"))["records"]
    counted = (len(records["orders.Order"]["rows"]), len(records["usage.UsageRecord"]["rows"]))
    if counted != (orders, usage):
        raise SystemExit(f"the export holds {counted} orders and usage rows, expected {(orders, usage)}")
    page = archive.read("index.html")
    if page.count(b"<tr>") < orders + usage:
        raise SystemExit("index.html lacks rows")
    return archive


def _child_measure(args) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    member, small = _setup(args.orders, args.usage)

    _build(small)  # warm-up: imports, templates, the member's data key
    _baseline(small)
    builds, baselines, ratios = [], [], []
    print(f"{'round':>5}{'build':>9}{'baseline':>10}{'ratio':>8}", flush=True)
    request = None
    for round_no in range(args.rounds):
        gc.collect()
        if round_no % 2 == 0:
            build, request = _build(member)
            baseline = _baseline(member)
        else:
            baseline = _baseline(member)
            build, request = _build(member)
        builds.append(build)
        baselines.append(baseline)
        ratios.append(build / baseline)
        print(f"{round_no + 1:>5}{build:>8.2f}s{baseline:>9.2f}s{ratios[-1]:>8.2f}", flush=True)

    queries, queries_small = _queries(member), _queries(small)
    peak_mb = _peak_allocation(member)
    archive = _check(request, args.orders, args.usage)
    sizes = {info.filename: (info.file_size, info.compress_size) for info in archive.infolist()}

    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(_build, member)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats("export|zipfile|json|iterator", 30)

    result = {
        "vendor": connection.vendor,
        "orders": args.orders,
        "usage": args.usage,
        "build_s": statistics.median(builds),
        "baseline_s": statistics.median(baselines),
        "ratio": statistics.median(ratios),
        "zip_mb": request.file_size / 2**20,
        "queries": queries,
        "queries_small": queries_small,
        "peak_alloc_mb": peak_mb,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
        "members": {name: sizes[name] for name in ("data.json", "index.html", "schema.json")},
    }
    print(
        f"median: build {result['build_s']:.2f}s, baseline {result['baseline_s']:.2f}s, "
        f"ratio {result['ratio']:.2f}; ZIP {result['zip_mb']:.1f} MB "
        + ", ".join(
            f"{name} {plain / 2**20:.1f} -> {packed / 2**20:.1f} MB"
            for name, (plain, packed) in sizes.items()
            if not name.startswith("attachments/")
        )
        + f"; {queries} queries ({queries_small} for a hundredth of the rows); peak Python allocation during a "
        f"build {peak_mb:.1f} MB; process peak RSS {result['peak_rss_mb']:.0f} MB (set-up included)",
        flush=True,
    )
    harness.report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
