#!/usr/bin/env python
"""Cost of Kirakira's field encryption: per-row write and read against plain fields and Fernet.

Run from the project root::

    .venv/bin/python bench/encryption.py                     # SQLite, fresh file in a temp dir
    .venv/bin/python bench/encryption.py --database-url postgres://postgres@127.0.0.1:5432/bench_enc
    .venv/bin/python bench/encryption.py --profile           # also cProfile one read of ours

Three models of the same shape (``privacy_testapp``): ``Sample`` (ours: ``phone`` and ``note``
sealed with AES-256-GCM under the member's data key), ``PlainSecret`` (plain fields, the baseline) and
``FernetSecret`` (django-fernet-encrypted-fields, the peer). Rows belong to ``--members``
distinct members, whose data keys are created before measuring.

One round, per model, in a model order rotated (and reversed every other round):
  * WRITE bulk: ``bulk_create`` of ``--rows`` new instances into the emptied table;
  * READ: ``list(Model.objects.all())`` of those rows AND reading ``phone`` and ``note`` of every
    row (our fields decrypt lazily, on attribute access);
  * WRITE save: ``save()`` of ``--saves`` new instances, one by one, inside one transaction (so
    the figure is the ORM and crypto cost, not one commit per row, which is the same for all).
The data-key cache is cleared before every timed operation, so each one unwraps every member's
key once (one ``DataKey`` query each), as a fresh process or an expired cache would.
Every read is checked against the written plaintexts (Fernet silently returns the ciphertext
when it cannot decrypt). Figures are medians over the rounds, in microseconds per row; ratios
are medians of the per-round ratios. A warm-up round (not counted) comes first. A
micro-benchmark of one encrypt+decrypt round trip per value follows. The exit code is 1 if a
target (read: ours/plain <= 1.5, fernet/ours >= 3) is missed.

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
READ_TARGET = 1.5  # ours / plain, bulk read
FERNET_TARGET = 3.0  # fernet / ours, bulk read


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


def _timed(fn) -> float:
    from kirakira.privacy.crypto import datakeys

    datakeys.clear_cache()
    gc.collect()
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _bulk_write(model, plaintexts) -> tuple[float, dict]:
    """Per-row seconds of bulk_create into the emptied table; {pk: (phone, note)} written."""
    _empty(model)
    objs = _instances(model, plaintexts)
    expected = {obj.pk: (phone, note) for obj, (_, phone, note) in zip(objs, plaintexts, strict=True)}
    return _timed(lambda: model.objects.bulk_create(objs)) / len(objs), expected


def _read(model, expected: dict) -> float:
    """Per-row seconds of loading every row and reading both encrypted values."""
    values = []

    def read():
        values.extend([(row.pk, row.phone, row.note) for row in list(model.objects.all())])

    seconds = _timed(read)
    if len(values) != len(expected):
        raise SystemExit(f"{model.__name__}: read {len(values)} rows, expected {len(expected)}")
    for pk, phone, note in values:
        if expected[pk] != (phone, note):
            raise SystemExit(f"{model.__name__}: row {pk} read back as {(phone, note)!r}")
    return seconds / len(values)


def _save_write(model, plaintexts) -> float:
    from django.db import transaction

    objs = _instances(model, plaintexts)

    def save_all():
        with transaction.atomic():
            for obj in objs:
                obj.save()

    return _timed(save_all) / len(objs)


def _round(models: dict, order: list[str], rng, members, rows: int, saves: int) -> dict:
    """One round: bulk write, then read, then save, each phase over the models in ``order``."""
    result = {"bulk": {}, "read": {}, "save": {}}
    expected = {}
    for name in order:
        result["bulk"][name], expected[name] = _bulk_write(models[name], _plaintexts(rng, rows, members))
    for name in order:
        result["read"][name] = _read(models[name], expected[name])
    for name in order:
        result["save"][name] = _save_write(models[name], _plaintexts(rng, saves, members))
    return result


def _micro(models: dict, iterations: int, repeats: int) -> dict:
    """Seconds of one encrypt+decrypt round trip of one value: median and best of ``repeats`` runs."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from kirakira.privacy.crypto.fields import Sealed

    value = _plaintexts(random.Random(1), 1, [uuid.uuid4()])[0][2]
    raw = value.encode()
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    aad = b"kirakira|privacy_testapp_secret|note|" + str(uuid.uuid4()).encode()

    def aes_gcm():
        nonce = os.urandom(12)
        aead.decrypt(nonce, aead.encrypt(nonce, raw, aad), aad)

    fernet = models["fernet"]._meta.get_field("note").f

    def fernet_round_trip():
        fernet.decrypt(fernet.encrypt(raw))

    secret = models["ours"](member_id=uuid.uuid4())
    field = models["ours"]._meta.get_field("note")

    def ours_field():
        field.open(secret, Sealed(field.seal(secret, value)))

    ours_field()  # creates the member's data key
    out = {"value_bytes": len(raw)}
    for label, fn in (("aes_gcm", aes_gcm), ("ours_field", ours_field), ("fernet", fernet_round_trip)):
        fn()
        runs = timeit.repeat(fn, number=iterations, repeat=repeats)
        out[label] = statistics.median(runs) / iterations
        out[label + "_best"] = min(runs) / iterations
    return out


def _profile_read(model, expected: dict) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(_read, model, expected)
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats("fields|datakeys", 20)


# --- Report -------------------------------------------------------------------------------------


def _ratio(rounds: list[dict], phase: str, top: str, bottom: str) -> float:
    return statistics.median(r[phase][top] / r[phase][bottom] for r in rounds)


def _report(vendor: str, rounds: list[dict], micro: dict, args) -> bool:
    us = {
        phase: {name: statistics.median(r[phase][name] for r in rounds) * 1e6 for name in MODELS}
        for phase in ("bulk", "read", "save")
    }
    labels = {
        "bulk": f"write, bulk_create of {args.rows:,}",
        "save": f"write, save() of {args.saves:,}",
        "read": f"read, list(all()) of {args.rows:,} + 2 fields",
    }
    print(
        f"\n=== {vendor}: µs per row, median of {len(rounds)} rounds; ratios = median of per-round ratios ==="
    )
    print(f"{'operation':<40}{'ours':>9}{'plain':>9}{'fernet':>9}{'ours/plain':>12}{'fernet/ours':>13}")
    for phase in ("bulk", "save", "read"):
        print(
            f"{labels[phase]:<40}{us[phase]['ours']:>9.2f}{us[phase]['plain']:>9.2f}{us[phase]['fernet']:>9.2f}"
            f"{_ratio(rounds, phase, 'ours', 'plain'):>12.2f}{_ratio(rounds, phase, 'fernet', 'ours'):>13.2f}"
        )
    read_vs_plain = _ratio(rounds, "read", "ours", "plain")
    fernet_vs_ours = _ratio(rounds, "read", "fernet", "ours")
    read_ok = read_vs_plain <= READ_TARGET
    fernet_ok = fernet_vs_ours >= FERNET_TARGET
    print(
        f"targets: bulk read ours/plain {read_vs_plain:.2f} <= {READ_TARGET}: {'met' if read_ok else 'MISSED'}; "
        f"fernet/ours {fernet_vs_ours:.2f} >= {FERNET_TARGET}: {'met' if fernet_ok else 'MISSED'}"
    )
    print(
        f"\nmicro-benchmark, one encrypt+decrypt round trip of one {micro['value_bytes']}-byte value "
        f"({args.micro_repeats} runs x {args.micro_iterations:,})"
    )
    print(f"  {'':<44}{'median':>9}{'best':>9}")
    for key, label in (
        ("aes_gcm", "AES-256-GCM alone (random nonce, AAD)"),
        ("ours_field", "ours: field seal() + open() (kk1. token)"),
        ("fernet", "Fernet encrypt() + decrypt()"),
    ):
        print(f"  {label:<44}{micro[key] * 1e6:>7.2f}µs{micro[key + '_best'] * 1e6:>7.2f}µs")
    print(
        f"  Fernet / AES-GCM {micro['fernet'] / micro['aes_gcm']:.2f}x, "
        f"Fernet / ours {micro['fernet'] / micro['ours_field']:.2f}x (medians)"
    )
    return read_ok and fernet_ok


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
    parser.add_argument("--micro-iterations", type=int, default=20_000)
    parser.add_argument("--micro-repeats", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="cProfile one read of ours at the end")
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
    print(
        f"{'round':>5}  {'order':<20}"
        + "".join(f"{p + ' ' + m:>14}" for p in ("bulk", "save", "read") for m in MODELS)
    )
    for number in range(args.rounds):
        order = list(MODELS[number % 3 :] + MODELS[: number % 3])
        if number % 2:
            order.reverse()
        result = _round(models, order, rng, members, args.rows, args.saves)
        rounds.append(result)
        cells = "".join(f"{result[p][m] * 1e6:>14.2f}" for p in ("bulk", "save", "read") for m in MODELS)
        print(f"{number + 1:>5}  {','.join(order):<20}{cells}", flush=True)

    micro = _micro(models, args.micro_iterations, args.micro_repeats)
    ok = _report(connection.vendor, rounds, micro, args)

    if args.profile:
        _, expected = _bulk_write(Sample, _plaintexts(rng, args.rows, members))
        _profile_read(Sample, expected)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
