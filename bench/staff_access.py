#!/usr/bin/env python
"""Overhead of the staff access log: requests/s of back-office order pages with the log on and off.

Run from the project root::

    .venv/bin/python bench/staff_access.py                   # both databases if PostgreSQL answers
    .venv/bin/python bench/staff_access.py --sqlite          # SQLite only
    .venv/bin/python bench/staff_access.py --database-url postgres://postgres@127.0.0.1:5432/bench_access
    .venv/bin/python bench/staff_access.py --all             # SQLite, then PostgreSQL

Each database is measured in its own child process (Django reads its settings once), on a
throwaway database: a fresh SQLite file in a temporary ``KIRAKIRA_VAR_DIR``, or a PostgreSQL
database that the child creates and drops again (only a database whose name starts with
``bench`` is ever dropped). The child migrates, places 60 orders from 20 members through the
real service function (encrypted fields and all), creates a customer-service staff member who
has passed the gate (second factor in the session, current pledge, training), and pre-fills the
access log with 50,000 records naming 150,000 subjects (consecutive ``seq``, dummy seals, the
head moved to the last one), so that index maintenance and the head's lock are counted.

What a request is: a customer-service staff member browsing the back office, alternating
``GET /backoffice/orders/order/`` (the changelist, 50 orders of 20 members on its first page:
one log row naming 20 members) and ``GET`` of one of those orders' change page (one row naming
one member), through Django's test ``Client`` (the full WSGI handler and middleware stack,
in-process, no network noise). ``DEBUG`` is off, as in production.

Log ON is the normal ``MIDDLEWARE``; log OFF is ``MIDDLEWARE`` without
``StaffAccessLogMiddleware`` (then nothing is collected or written; the model signals stay
connected and return at once). A test client's handler builds its middleware chain on its first
request from the settings of that moment, so the OFF client makes its first request inside
``override_settings`` and keeps that chain; the ON client is built with the normal settings.
A round makes ``--requests`` requests in each mode, alternating in blocks of ``--block`` (ABBA
order), so that both modes see the same load of a shared, noisy machine; the reported figures
are medians over the rounds, the ratio is the median of the rounds' ON/OFF; the bench process's
own CPU time per request is shown beside them, which tells the log's Python cost from the time
spent waiting for the database (round trips, the commit's flush). After every block
the log's rows are counted: exactly one per ON request, none per OFF request. At the end the
newest rows are checked (staff, role, action, model, record, members named, IP, path) and their
seals recomputed, which also shows that they chain to the pre-filled head.
"""

import argparse
import gc
import hashlib
import re
import statistics
import sys
import time
import uuid
from datetime import timedelta

import harness  # bench/, the scripts' own directory, is on sys.path

ROOT = harness.ROOT
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/bench_access"
TARGET = 0.91
LIST_PAGE = "/backoffice/orders/order/"
MIDDLEWARE_PATH = "kirakira.privacy.access_log.middleware.StaffAccessLogMiddleware"
ADDRESS = "203.0.113.9"
MEMBERS = 20
ORDERS = 60  # more than a page, so the changelist counts and paginates as it does in real use
PER_PAGE = 50


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
    parser.add_argument("--requests", type=int, default=300, help="requests per mode and round (default 300)")
    parser.add_argument(
        "--block", type=int, default=20, help="requests per ON or OFF block, even (default 20)"
    )
    parser.add_argument("--warmup", type=int, default=40, help="warm-up requests per mode (default 40)")
    parser.add_argument("--prefill", type=int, default=50_000, help="access records before measuring")
    parser.add_argument("--profile", action="store_true", help="also profile one ON round (cProfile)")
    parser.add_argument("--check", action="store_true", help=f"exit 1 if a ratio is below {TARGET}")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.block < 2 or args.block % 2:
        parser.error("--block must be even: each block alternates the list and a change page")

    if args.child:
        return child(args)

    targets = harness.targets(args, args.pg_url)
    results = [harness.run_child(__file__, url, harness.child_args(args)) for url in targets]
    print("\n=== Summary: requests/s (median of rounds), ON/OFF (median of the rounds' ratios) ===")
    print(
        f"{'database':<12}{'log ON':>9}{'log OFF':>9}{'ON/OFF':>8}{'(medians)':>11}{'stmts':>7}{'CPU ms ON':>11}{'OFF':>7}"
        f"  target >= {TARGET:.2f}"
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
            f"{result['label']:<12}{result['on_rps']:>9.1f}{result['off_rps']:>9.1f}{result['ratio']:>8.3f}"
            f"{result['ratio_of_medians']:>11.3f}{result['extra_statements']:>+7}"
            f"{result['cpu_ms_on']:>11.1f}{result['cpu_ms_off']:>7.1f}  {'met' if met else 'MISSED'}"
        )
    print(
        "(stmts: database statements an ON request makes more than an OFF one, list page; "
        "CPU ms: the bench process's own CPU time per request, median of rounds)"
    )
    return 1 if failed or (args.check and missed) else 0


# --- Child: one database, set up, measure ----------------------------------------------------


def child(args) -> int:
    return harness.in_throwaway_database(_child_measure, args)


def _orders_and_staff():
    """20 confirmed members with 3 orders each (placed through the service function, so their
    fields are encrypted under each member's key), and a customer-service staff member."""
    from django.contrib.auth.models import Group

    from kirakira.accounts.models import User
    from kirakira.common import clock
    from kirakira.common.roles import Role
    from kirakira.orders.models import Order, Service, SnsPlatform
    from kirakira.orders.services import order_place

    members = User.objects.bulk_create(
        User(
            login_id=f"benchmember{i:03d}",
            name=f"Bench Member {i}",
            email=f"bench-member{i:03d}@example.com",
            password="!",  # unusable: members do not log in here
            email_confirmed_at=clock.now(),
        )
        for i in range(MEMBERS)
    )
    service = Service.objects.create(
        name_ja="写真レタッチ",
        name_en="Photo retouch",
        name_ko="사진 보정",
        description_ja="説明",
        description_en="Description",
        description_ko="설명",
        price_yen=3000,
        photo_link_count=2,
    )
    service.platforms.set(SnsPlatform.objects.filter(code="instagram"))
    for i in range(ORDERS):
        order_place(
            member=members[i % MEMBERS],
            service=service,
            platform="instagram",
            sns_account_id=f"bench.account{i:03d}",
            photo_links=[f"https://photos.example.com/{i}/1.jpg", f"https://photos.example.com/{i}/2.jpg"],
            note="肌の色を自然に、背景は明るく。" if i % 3 else "",
            phone=f"090-{1000 + i:04d}-{5678 + i:04d}",
        )
    staff = User.objects.create_user(
        login_id="benchstaff",
        name="Bench Staff",
        email="bench-staff@example.com",
        password="a-long-bench-password-42",
        is_staff=True,
        email_confirmed_at=clock.now(),
    )
    staff.groups.add(Group.objects.get(name=str(Role.CUSTOMER_SERVICE)))
    assert Order.objects.count() == ORDERS
    return members, staff


def _prefill_log(count: int, members, staff) -> None:
    """``count`` access records over the past year, each naming 1 member (a change page) or
    5 (a list), by five staff members; consecutive ``seq`` and a chain of dummy seals, and the
    head moved to the last one as the log itself would have left it."""
    from kirakira.accounts.models import User
    from kirakira.common import clock
    from kirakira.privacy.access_log.chain import GENESIS
    from kirakira.privacy.models import AccessLogHead, StaffAccessRecord, StaffAccessSubject

    staff_ids = [staff.pk] + [
        user.pk
        for user in User.objects.bulk_create(
            User(
                login_id=f"benchstaff{i}",
                name=f"Bench Staff {i}",
                email=f"bench-staff{i}@example.com",
                password="!",
                is_staff=True,
            )
            for i in range(4)
        )
    ]
    # The members with orders, and others who had dealings with the studio before.
    subjects = [member.pk for member in members] + [uuid.uuid4() for _ in range(2000)]
    now = clock.now()
    step = timedelta(days=365) / max(count, 1)
    previous = GENESIS
    batch = 2000
    for start in range(0, count, batch):
        records = []
        for seq in range(start + 1, min(start + batch, count) + 1):
            seal = hashlib.sha256(f"bench {seq}".encode()).hexdigest()
            listed = seq % 2 == 0
            records.append(
                StaffAccessRecord(
                    seq=seq,
                    occurred_at=now - step * (count + 1 - seq),
                    staff_id=staff_ids[seq % len(staff_ids)],
                    roles="customer_service",
                    ip_address=f"198.51.100.{seq % 250 + 1}",
                    request_id=f"{seq:032x}",
                    action=StaffAccessRecord.Action.LIST if listed else StaffAccessRecord.Action.VIEW,
                    model="orders.Order",
                    object_id="" if listed else str(uuid.UUID(int=seq)),
                    fields=[] if listed else ["orders.Order.sns_account_id", "orders.Order.photo_links"],
                    path=LIST_PAGE if listed else f"{LIST_PAGE}{uuid.UUID(int=seq)}/change/",
                    prev_hash=previous,
                    hash=seal,
                )
            )
            previous = seal
        StaffAccessRecord.objects.bulk_create(records)
        if records[0].pk is None:  # a database that does not return keys from a bulk insert
            keys = dict(
                StaffAccessRecord.objects.filter(seq__gt=start, seq__lte=start + batch).values_list(
                    "seq", "pk"
                )
            )
            for record in records:
                record.pk = keys[record.seq]
        StaffAccessSubject.objects.bulk_create(
            StaffAccessSubject(record_id=record.pk, subject_id=subject)
            for record in records
            for subject in {
                subjects[(record.seq * 7919 + k * 104729) % len(subjects)]
                for k in range(5 if record.action == StaffAccessRecord.Action.LIST else 1)
            }
        )
    AccessLogHead.objects.update_or_create(
        pk=1,
        defaults={"last_seq": count, "last_hash": previous, "anchor_seq": 0, "anchor_hash": GENESIS},
    )


def _setup(prefill: int):
    from django.contrib import admin
    from django.core.management import call_command
    from django.db import connection

    from kirakira.orders.models import Order
    from kirakira.privacy.models import StaffAccessRecord, StaffAccessSubject

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    members, staff = _orders_and_staff()
    migrated = time.perf_counter()
    _prefill_log(prefill, members, staff)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    # A page of 50 orders, whatever the admin's own page size is.
    admin.site.get_model_admin(Order).list_per_page = PER_PAGE
    print(
        f"setup: {connection.vendor}, migrated, {MEMBERS} members with {ORDERS} orders, 1 staff "
        f"(customer service), {StaffAccessRecord.objects.count():,} access records naming "
        f"{StaffAccessSubject.objects.count():,} subjects (migrations and orders "
        f"{migrated - started:.1f}s, log {time.perf_counter() - migrated:.1f}s)",
        flush=True,
    )
    return staff


def _staff_client(staff, *, middleware=None):
    """A test client logged in as ``staff``, past the gate. With ``middleware``, its handler is
    built (on its first request) from that list instead of the settings' ``MIDDLEWARE``."""
    from django.test import Client, override_settings

    from kirakira.accounts.gate.testing import pass_the_gate

    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(staff)
    session = client.session
    pass_the_gate(staff, session)
    session.save()
    if middleware is None:
        response = client.get(LIST_PAGE)
    else:
        with override_settings(MIDDLEWARE=middleware):
            response = client.get(LIST_PAGE)
    _check_list(response)
    return client


def _check_list(response) -> None:
    if response.status_code in (301, 302) and "/backoffice/gate/" in response.get("Location", ""):
        raise SystemExit(f"the staff gate sent the bench's staff member to {response['Location']}")
    if response.status_code != 200:
        raise SystemExit(f"{LIST_PAGE} answered {response.status_code}, not 200")
    rows = response.content.count(b'class="action-select"')
    if rows != PER_PAGE:
        raise SystemExit(f"{LIST_PAGE} showed {rows} orders, not {PER_PAGE}")


def _run(client, pages: list[str], start: int, n: int) -> float:
    """n GETs alternating the changelist and the change pages (cycling); the seconds they took."""
    get = client.get
    count = len(pages)
    started = time.perf_counter()
    for i in range(start, start + n, 2):
        response = get(LIST_PAGE)
        if response.status_code != 200:
            raise SystemExit(f"{LIST_PAGE} answered {response.status_code}, not 200")
        page = pages[(i // 2) % count]
        response = get(page)
        if response.status_code != 200:
            raise SystemExit(f"{page} answered {response.status_code}, not 200")
    return time.perf_counter() - started


def _round(clients, pages, requests: int, block: int, first: bool) -> dict[bool, tuple[float, float]]:
    """requests GETs in each mode, in alternating blocks; for each mode, requests/s and the
    bench process's own CPU milliseconds per request. After each block, the log holds one more
    row per ON request and none per OFF request.

    Blocks of about a second, ABBA-ordered, put both modes under the same load of the machine,
    so the ratio of one round is meaningful even when the machine is busy. The CPU time tells
    the Python side of the log's cost from the time spent waiting for the database.
    """
    from kirakira.privacy.models import StaffAccessRecord

    count = StaffAccessRecord.objects.count
    elapsed = {True: 0.0, False: 0.0}
    cpu = {True: 0.0, False: 0.0}
    done = 0
    order = (first, not first)
    rows = count()
    while done < requests:
        n = min(block, requests - done)
        for enabled in order:
            cpu_started = time.process_time()
            elapsed[enabled] += _run(clients[enabled], pages, done, n)
            cpu[enabled] += time.process_time() - cpu_started
            now = count()
            if now - rows != (n if enabled else 0):
                mode = "ON" if enabled else "OFF"
                raise SystemExit(f"{now - rows} rows logged by a block of {n} requests with the log {mode}")
            rows = now
        order = order[::-1]
        done += n
    return {enabled: (requests / elapsed[enabled], 1000 * cpu[enabled] / requests) for enabled in elapsed}


def _statements(client, path: str) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.status_code
    return [query["sql"] for query in captured.captured_queries]


def _shape(sql: str) -> str:
    return re.sub(r"'[^']*'|\b\d+\b|\"s\d+_x\d+\"", "?", sql)


def _extra_statements(clients, pages) -> int:
    """How many more statements an ON request makes than an OFF one, and which (printed)."""
    counts = {}
    for path in (LIST_PAGE, pages[0]):
        on, off = _statements(clients[True], path), _statements(clients[False], path)
        counts[path] = len(on) - len(off)
        extra = list(on)
        for sql in off:  # matched without their values (two sessions, two session keys)
            match = next((other for other in extra if _shape(other) == _shape(sql)), None)
            if match is not None:
                extra.remove(match)
        print(f"statements, {path}: ON {len(on)}, OFF {len(off)}; ON's own:", flush=True)
        for sql in extra:
            print(f"    {sql[:110]}", flush=True)
    return counts[LIST_PAGE]


def _check_rows(staff, members, pages) -> None:
    """The newest list and change-page rows say what the pages showed, and their seals hold."""
    from kirakira.orders.models import Order
    from kirakira.privacy.access_log import chain
    from kirakira.privacy.models import StaffAccessRecord

    shown = list(Order.objects.order_by("-created_at").values_list("pk", "member_id")[:PER_PAGE])
    listed_members = {str(member) for _, member in shown}
    newest = list(StaffAccessRecord.objects.order_by("-seq")[:4])
    for row in newest:
        subjects = sorted(str(s) for s in row.subjects.values_list("subject_id", flat=True))
        expected_path = LIST_PAGE if row.action == StaffAccessRecord.Action.LIST else row.path
        problems = [
            what
            for what, bad in (
                ("staff", row.staff_id != staff.pk),
                ("roles", row.roles != "customer_service"),
                ("action", row.action not in (StaffAccessRecord.Action.LIST, StaffAccessRecord.Action.VIEW)),
                ("model", row.model != "orders.Order"),
                ("IP", row.ip_address != ADDRESS),
                ("path", row.path != expected_path or row.path not in [LIST_PAGE, *pages]),
                ("seal", row.hash != chain.seal(row, subjects)),
                ("fields", not row.fields),
            )
            if bad
        ]
        if row.action == StaffAccessRecord.Action.LIST:
            problems += ["members"] if set(subjects) != listed_members or row.object_id else []
        else:
            order = Order.objects.get(pk=row.object_id)
            problems += ["members"] if subjects != [str(order.member_id)] else []
        if problems:
            raise SystemExit(f"access record #{row.seq} is wrong: {', '.join(problems)}")
    for newer, older in zip(newest, newest[1:], strict=False):
        if newer.prev_hash != older.hash or newer.seq != older.seq + 1:
            raise SystemExit(f"access record #{newer.seq} does not chain to #{older.seq}")
    print(
        f"checked: the newest rows name the {len(listed_members)} members of the list or the order's "
        "member, with the right staff, role, IP, path and fields, and their seals chain",
        flush=True,
    )


def _child_measure(args) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from kirakira.orders.models import Order
    from kirakira.privacy.models import StaffAccessRecord

    if MIDDLEWARE_PATH not in settings.MIDDLEWARE:
        raise SystemExit("the staff access-log middleware is not in MIDDLEWARE")
    if settings.DEBUG:
        raise SystemExit("DEBUG is on: the bench measures production settings")
    staff = _setup(args.prefill)
    members = list({order.member for order in Order.objects.select_related("member")})
    shown = Order.objects.order_by("-created_at").values_list("pk", flat=True)[:PER_PAGE]
    pages = [f"{LIST_PAGE}{pk}/change/" for pk in shown]

    without = [name for name in settings.MIDDLEWARE if name != MIDDLEWARE_PATH]
    before = StaffAccessRecord.objects.count()
    clients = {True: _staff_client(staff), False: _staff_client(staff, middleware=without)}
    if StaffAccessRecord.objects.count() != before + 1:
        raise SystemExit("the first ON request did not write exactly one row, or the OFF one wrote one")

    for enabled in (True, False):
        _run(clients[enabled], pages, 0, args.warmup)
    extra = _extra_statements(clients, pages)
    _check_list(clients[True].get(LIST_PAGE))
    _check_list(clients[False].get(LIST_PAGE))

    on, off, ratios, cpu_on, cpu_off = [], [], [], [], []
    print(
        f"{'round':>5}{'ON req/s':>11}{'OFF req/s':>11}{'ON/OFF':>9}{'CPU ms/req ON':>15}{'OFF':>7}",
        flush=True,
    )
    for round_no in range(args.rounds):
        gc.collect()
        measured = _round(clients, pages, args.requests, args.block, first=round_no % 2 == 0)
        (rate_on, ms_on), (rate_off, ms_off) = measured[True], measured[False]
        on.append(rate_on)
        off.append(rate_off)
        cpu_on.append(ms_on)
        cpu_off.append(ms_off)
        ratios.append(rate_on / rate_off)
        print(
            f"{round_no + 1:>5}{rate_on:>11.1f}{rate_off:>11.1f}{ratios[-1]:>9.3f}{ms_on:>15.1f}{ms_off:>7.1f}",
            flush=True,
        )

    _check_rows(staff, members, pages)

    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(_run, clients[True], pages, 0, args.requests)
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        stats.print_stats("access_log|cursor|execute|atomic|savepoint", 30)

    result = {
        "vendor": connection.vendor,
        "on_rps": statistics.median(on),
        "off_rps": statistics.median(off),
        "ratio": statistics.median(ratios),
        "ratio_of_medians": statistics.median(on) / statistics.median(off),
        "rounds": args.rounds,
        "requests": args.requests,
        "extra_statements": extra,
        "cpu_ms_on": statistics.median(cpu_on),
        "cpu_ms_off": statistics.median(cpu_off),
        "access_records": StaffAccessRecord.objects.count(),
    }
    print(
        f"median: ON {result['on_rps']:.1f} req/s, OFF {result['off_rps']:.1f} req/s, "
        f"ON/OFF {result['ratio']:.3f} (ratio of medians {result['ratio_of_medians']:.3f}), "
        f"CPU of the bench process {result['cpu_ms_on']:.1f} vs {result['cpu_ms_off']:.1f} ms/request, "
        f"{result['access_records']:,} access records at the end",
        flush=True,
    )
    harness.report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
