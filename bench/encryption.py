#!/usr/bin/env python
"""Cost of Kirakira's field encryption: per-row write and read against plain fields and Fernet.

Run from the project root::

    .venv/bin/python bench/encryption.py                     # SQLite, fresh file in a temp dir
    .venv/bin/python bench/encryption.py --database-url postgres://postgres@127.0.0.1:5432/bench_enc
    .venv/bin/python bench/encryption.py --profile           # also cProfile one read and one save of ours

Three models of the same shape (``privacy_testapp``): ``Sample`` (ours: ``phone`` and ``note``
sealed with AES-256-GCM under the member's data key), ``PlainSecret`` (plain fields, the baseline) and
``FernetSecret`` (django-fernet-encrypted-fields, the peer). Rows belong to ``--members``
distinct members, whose data keys are created before measuring. The access log's model hooks
(post_init, post_save, post_delete), which every model naming a data subject carries whether
it is encrypted or not, are disconnected from ``Sample`` so that the three differ only in how
their two fields are stored (bench/staff_access.py measures the access log).

One round, per model, in a model order rotated (and reversed every other round):
  * WRITE bulk: ``bulk_create`` of ``--rows`` new instances into the emptied table;
  * READ: ``list(Model.objects.all())`` of those rows AND reading ``phone`` and ``note`` of every
    row (our fields decrypt lazily, on attribute access);
  * WRITE save: ``save()`` of ``--saves`` new instances, one by one, inside one transaction (so
    the figure is the ORM and crypto cost, not one commit per row, which is the same for all).
The data-key cache is cleared before every timed operation, so each one fetches and unwraps
every member's key once, as a fresh process or an expired cache would (a bulk read or
``bulk_create`` in one query, ``save()`` one query per member).
Every read is checked against the written plaintexts (Fernet silently returns the ciphertext
when it cannot decrypt). Figures are medians over the rounds, in microseconds per row of wall
time (and of this process's CPU time, steadier on a busy machine; with PostgreSQL it leaves out
the server's share); ratios are medians of the per-round ratios. A warm-up round (not counted)
comes first. Then a micro-benchmark of one encrypt+decrypt round trip of one value: AES-GCM
alone, our field's ``seal()`` + ``open()`` and Fernet, interleaved, in CPU time.

Targets (exit code 1 if one is missed): read ours/plain <= 1.5 and fernet/ours >= 3; one seal +
open <= 2x AES-GCM alone; ``bulk_create`` and ``save()`` faster than Fernet's.

The PostgreSQL database of ``--database-url`` is created and dropped again with ``psql``; only a
database whose name starts with ``bench`` is ever dropped.
"""

import argparse
import gc
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
MODELS = ("ours", "plain", "fernet")
PHASES = ("bulk", "save", "read")
READ_TARGET = 1.5  # ours / plain, bulk read
FERNET_TARGET = 3.0  # fernet / ours, bulk read
ROUND_TRIP_TARGET = 2.0  # ours / AES-GCM alone, one seal + open
WRITE_TARGET = 1.0  # fernet / ours, bulk_create and save(): faster than Fernet


# --- PostgreSQL database: created and dropped with psql ---------------------------------------


def _psql(url: str, statement: str) -> None:
    parts = urlsplit(url)
    env = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    command = [
        "psql",
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        unquote(parts.username or "postgres"),
        "-d",
        "postgres",
        "-v",
        "ON_ERROR_STOP=1",
        "-qc",
        statement,
    ]
    subprocess.run(command, env=env, check=True)  # noqa: S603, S607 - psql with our own statement


def _bench_db_name(url: str) -> str:
    name = unquote(urlsplit(url).path.lstrip("/"))
    if not name.startswith("bench") or not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing to create and drop database {name!r}: its name must start with 'bench'")
    return name


# --- Data --------------------------------------------------------------------------------------


def _plaintexts(rng: random.Random, n: int, members: list[uuid.UUID]) -> list[tuple[uuid.UUID, str, str]]:
    """(member_id, phone, note) of n rows, members spread evenly."""
    places = ["代々木公園", "明治神宮", "スタジオA", "スタジオB", "お台場海浜公園", "新宿御苑"]
    rows = []
    for i in range(n):
        phone = f"090-{rng.randrange(10_000):04d}-{rng.randrange(10_000):04d}"
        note = (
            f"撮影は{rng.randrange(1, 13)}月{rng.randrange(1, 29)}日、{rng.choice(places)}にて。"
            f"衣装{rng.randrange(1, 5)}着、ヘアメイクあり。連絡は夕方以降にお願いします。#{i}"
        )
        rows.append((members[i % len(members)], phone, note))
    return rows


def _instances(model, plaintexts):
    return [model(member_id=member_id, phone=phone, note=note) for member_id, phone, note in plaintexts]


# --- Measurements --------------------------------------------------------------------------------


def _empty(model) -> None:
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}" if connection.vendor == "postgresql" else f"DELETE FROM {table}")  # noqa: S608 - our table name


def _timed(fn) -> tuple[float, float]:
    """(wall, CPU) seconds of ``fn()``, run with an empty data-key cache."""
    from kirakira.privacy.crypto import datakeys

    datakeys.clear_cache()
    gc.collect()
    cpu = time.process_time()
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started, time.process_time() - cpu


def _per_row(seconds: tuple[float, float], rows: int) -> tuple[float, float]:
    return seconds[0] / rows, seconds[1] / rows


def _bulk_write(model, plaintexts) -> tuple[tuple[float, float], dict]:
    """Per-row (wall, CPU) seconds of bulk_create into the emptied table; {pk: (phone, note)} written."""
    _empty(model)
    objs = _instances(model, plaintexts)
    expected = {obj.pk: (phone, note) for obj, (_, phone, note) in zip(objs, plaintexts, strict=True)}
    return _per_row(_timed(lambda: model.objects.bulk_create(objs)), len(objs)), expected


def _read(model, expected: dict) -> tuple[float, float]:
    """Per-row (wall, CPU) seconds of loading every row and reading both encrypted values."""
    values = []

    def read():
        values.extend([(row.pk, row.phone, row.note) for row in list(model.objects.all())])

    seconds = _timed(read)
    if len(values) != len(expected):
        raise SystemExit(f"{model.__name__}: read {len(values)} rows, expected {len(expected)}")
    for pk, phone, note in values:
        if expected[pk] != (phone, note):
            raise SystemExit(f"{model.__name__}: row {pk} read back as {(phone, note)!r}")
    return _per_row(seconds, len(values))


def _save_write(model, plaintexts) -> tuple[float, float]:
    from django.db import transaction

    objs = _instances(model, plaintexts)

    def save_all():
        with transaction.atomic():
            for obj in objs:
                obj.save()

    return _per_row(_timed(save_all), len(objs))


def _round(models: dict, order: list[str], rng, members, rows: int, saves: int) -> dict:
    """One round: bulk write, then read, then save, each phase over the models in ``order``.
    ``result[phase][model]`` is (wall, CPU) seconds per row."""
    result = {"bulk": {}, "read": {}, "save": {}}
    expected = {}
    for name in order:
        result["bulk"][name], expected[name] = _bulk_write(models[name], _plaintexts(rng, rows, members))
    for name in order:
        result["read"][name] = _read(models[name], expected[name])
    for name in order:
        result["save"][name] = _save_write(models[name], _plaintexts(rng, saves, members))
    return result


MICRO = ("aes_gcm", "ours_field", "fernet")


def _micro(models: dict, iterations: int, repeats: int) -> dict:
    """CPU seconds of one encrypt+decrypt round trip of one value, per run: the three
    contestants interleaved, ``repeats`` runs of ``iterations`` each."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    value = _plaintexts(random.Random(1), 1, [uuid.uuid4()])[0][2]
    raw = value.encode()
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    # The same associated data as ours: table, column and the row's 16 bytes.
    aad = b"kirakira|privacy_testapp_sample|note|" + uuid.uuid4().bytes

    def aes_gcm():
        nonce = os.urandom(12)
        aead.decrypt(nonce, aead.encrypt(nonce, raw, aad), aad)

    fernet = models["fernet"]._meta.get_field("note").f

    def fernet_round_trip():
        fernet.decrypt(fernet.encrypt(raw))

    secret = models["ours"](member_id=uuid.uuid4())
    field = models["ours"]._meta.get_field("note")

    def ours_field():
        field.open(secret, field.seal(secret, value))

    if field.open(secret, field.seal(secret, value)) != value:  # also creates the member's data key
        raise SystemExit("micro-benchmark: our round trip did not give the value back")
    functions = {"aes_gcm": aes_gcm, "ours_field": ours_field, "fernet": fernet_round_trip}
    runs = {label: [] for label in MICRO}
    for _ in range(repeats):
        for label in MICRO:
            runs[label].append(
                timeit.timeit(functions[label], number=iterations, timer=time.process_time) / iterations
            )
    return {"value_bytes": len(raw), "runs": runs}


def _profile(label: str, fn, *args) -> None:
    import cProfile
    import pstats

    print(f"\n--- cProfile: {label} ---")
    profiler = cProfile.Profile()
    profiler.runcall(fn, *args)
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats("fields|datakeys", 20)


# --- Report -------------------------------------------------------------------------------------


def _ratio(rounds: list[dict], phase: str, top: str, bottom: str, clock: int = 0) -> float:
    return statistics.median(r[phase][top][clock] / r[phase][bottom][clock] for r in rounds)


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _report(vendor: str, rounds: list[dict], micro: dict, args) -> bool:
    labels = {
        "bulk": f"write, bulk_create of {args.rows:,}",
        "save": f"write, save() of {args.saves:,}",
        "read": f"read, list(all()) of {args.rows:,} + 2 fields",
    }
    for clock, title in ((0, "wall time"), (1, "CPU time of this process")):
        print(
            f"\n=== {vendor}, {title}: µs per row, median of {len(rounds)} rounds; "
            "ratios = median of per-round ratios ==="
        )
        print(f"{'operation':<40}{'ours':>9}{'plain':>9}{'fernet':>9}{'ours/plain':>12}{'fernet/ours':>13}")
        for phase in PHASES:
            us = {name: statistics.median(r[phase][name][clock] for r in rounds) * 1e6 for name in MODELS}
            print(
                f"{labels[phase]:<40}{us['ours']:>9.2f}{us['plain']:>9.2f}{us['fernet']:>9.2f}"
                f"{_ratio(rounds, phase, 'ours', 'plain', clock):>12.2f}"
                f"{_ratio(rounds, phase, 'fernet', 'ours', clock):>13.2f}"
            )

    runs = micro["runs"]
    print(
        f"\nmicro-benchmark, one encrypt+decrypt round trip of one {micro['value_bytes']}-byte value, "
        f"CPU time ({args.micro_repeats} interleaved runs x {args.micro_iterations:,})"
    )
    print(f"  {'':<46}{'median':>9}{'best':>9}")
    for key, label in (
        ("aes_gcm", "AES-256-GCM alone (random nonce, same AAD)"),
        ("ours_field", "ours: field seal() + open()"),
        ("fernet", "Fernet encrypt() + decrypt()"),
    ):
        print(f"  {label:<46}{statistics.median(runs[key]) * 1e6:>7.2f}µs{min(runs[key]) * 1e6:>7.2f}µs")
    round_trip = statistics.median(o / a for o, a in zip(runs["ours_field"], runs["aes_gcm"], strict=True))
    fernet_round_trip = statistics.median(
        f / o for f, o in zip(runs["fernet"], runs["ours_field"], strict=True)
    )
    print(
        f"  ours / AES-GCM {round_trip:.2f}x, Fernet / ours {fernet_round_trip:.2f}x (medians of per-run ratios)"
    )

    checks = [
        ("bulk read ours/plain", _ratio(rounds, "read", "ours", "plain"), "<=", READ_TARGET),
        ("bulk read fernet/ours", _ratio(rounds, "read", "fernet", "ours"), ">=", FERNET_TARGET),
        ("seal+open ours/AES-GCM", round_trip, "<=", ROUND_TRIP_TARGET),
        ("bulk_create fernet/ours", _ratio(rounds, "bulk", "fernet", "ours"), ">", WRITE_TARGET),
        ("save() fernet/ours", _ratio(rounds, "save", "fernet", "ours"), ">", WRITE_TARGET),
    ]
    results = []
    for label, value, op, target in checks:
        ok = {"<=": value <= target, ">=": value >= target, ">": value > target}[op]
        results.append(ok)
        print(f"target (wall time): {label} {value:.2f} {op} {target}: {_verdict(ok)}")
    return all(results)


# --- Main ---------------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", help="PostgreSQL URL of a throwaway bench* database (created, dropped)"
    )
    parser.add_argument("--rounds", type=int, default=9, help="measured rounds (default 9)")
    parser.add_argument("--rows", type=int, default=10_000, help="rows of bulk_create and of the read")
    parser.add_argument("--saves", type=int, default=1_000, help="rows written with save() per round")
    parser.add_argument("--members", type=int, default=100, help="distinct member_ids (default 100)")
    parser.add_argument("--micro-iterations", type=int, default=2_000)
    parser.add_argument("--micro-repeats", type=int, default=51)
    parser.add_argument(
        "--profile", action="store_true", help="cProfile one read and one save() of ours at the end"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="kirakira-bench-enc-") as var_dir:
        os.environ.update(DJANGO_SETTINGS_MODULE="config.settings_test", KIRAKIRA_VAR_DIR=var_dir, DEBUG="0")
        os.environ.pop("KIRAKIRA_PRODUCTION", None)
        db_name = None
        if args.database_url:
            db_name = _bench_db_name(args.database_url)
            _psql(args.database_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            _psql(args.database_url, f'CREATE DATABASE "{db_name}"')
            os.environ["DATABASE_URL"] = args.database_url
        else:
            os.environ.pop("DATABASE_URL", None)
        try:
            return _measure(args)
        finally:
            if db_name:
                from django.db import connections

                connections.close_all()
                _psql(args.database_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def _measure(args) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from kirakira.privacy.crypto import datakeys
    from kirakira.privacy.tests.testapp.models import FernetSecret, PlainSecret, Sample

    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
    models = {"ours": Sample, "plain": PlainSecret, "fernet": FernetSecret}
    _without_access_log_hooks(models.values())
    rng = random.Random(20261125)
    members = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(args.members)]
    for member in members:
        datakeys.key_for_owner(member)  # data keys exist before anything is timed
    print(
        f"{connection.vendor} ({connection.settings_dict['NAME']}), Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs; {args.rows:,} rows, {args.saves:,} saves, {args.members} members, "
        f"{args.rounds} rounds + 1 warm-up",
        flush=True,
    )

    warmup = max(1, args.rows // 10)
    _round(models, list(MODELS), rng, members, warmup, max(1, args.saves // 10))
    rounds = []
    print("wall time, µs per row:")
    print(f"{'round':>5}  {'order':<20}" + "".join(f"{p + ' ' + m:>14}" for p in PHASES for m in MODELS))
    for number in range(args.rounds):
        order = list(MODELS[number % 3 :] + MODELS[: number % 3])
        if number % 2:
            order.reverse()
        result = _round(models, order, rng, members, args.rows, args.saves)
        rounds.append(result)
        cells = "".join(f"{result[p][m][0] * 1e6:>14.2f}" for p in PHASES for m in MODELS)
        print(f"{number + 1:>5}  {','.join(order):<20}{cells}", flush=True)

    micro = _micro(models, args.micro_iterations, args.micro_repeats)
    ok = _report(connection.vendor, rounds, micro, args)

    if args.profile:
        _, expected = _bulk_write(Sample, _plaintexts(rng, args.rows, members))
        _profile(f"read of {args.rows:,} rows of ours", _read, Sample, expected)
        _profile(
            f"save() of {args.saves:,} rows of ours",
            _save_write,
            Sample,
            _plaintexts(rng, args.saves, members),
        )
    return 0 if ok else 1


def _without_access_log_hooks(models) -> None:
    """Disconnect the access log's receivers (connected for models that name a data subject),
    and check that the three models are left with the same receivers."""
    from django.db.models.signals import post_delete, post_init, post_save, pre_init, pre_save

    models = list(models)
    for model in models:
        uid = f"kirakira_access_{model._meta.label}"
        for signal in (post_init, post_save, post_delete):
            signal.disconnect(sender=model, dispatch_uid=uid)
    for signal in (pre_init, post_init, pre_save, post_save, post_delete):
        receivers = {model.__name__: len(signal._live_receivers(model)[0]) for model in models}
        if len(set(receivers.values())) != 1:
            raise SystemExit(f"the models do not have the same receivers of {signal!r}: {receivers}")


if __name__ == "__main__":
    sys.exit(main())
