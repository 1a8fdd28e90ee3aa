#!/usr/bin/env python
"""Real pages measured from outside: requests/s, p50 and p99 of Kirakira's pages under gunicorn,
against a bare Django JSON view served by the same gunicorn configuration in the same run.

Run from the project root (``make bench`` runs it)::

    .venv/bin/python bench/pages.py              # 3 rounds of 10 s per page (about 5 minutes)
    .venv/bin/python bench/pages.py --quick      # 2 s per page: a smoke run
    .venv/bin/python bench/pages.py --pages home,api_orders --rounds 5 --json /tmp/pages.json

What runs (see bench/PAGES.md for how to read the output):

- PostgreSQL only: a throwaway database ``bench_pages_<pid>`` on ``--pg-url`` (created and
  dropped again, as in bench/harness.py), migrated, with ``load_demo``'s data, one member with
  46 orders placed through ``orders.services.order_place``, and at least 50 orders in all for
  the back office's list.
- Kirakira as in production: ``KIRAKIRA_PRODUCTION=1`` (``DEBUG`` off, strong keys, WhiteNoise
  over ``collectstatic``'s files, HTTPS behind a trusted proxy: every request carries
  ``X-Forwarded-Proto: https``), a shared cache (a redis-server started for this run, or a file
  cache without one), ``gunicorn -c config/gunicorn.py`` with ``WEB_WORKERS`` sync
  workers of one thread. The bare project (bench/bare/) runs under the same gunicorn
  configuration with the same worker settings.
- Logins as the browser and the API client have them: a member's and a staff member's session
  cookies (the staff member, customer service, has passed the back office's gate: second factor
  in the session, pledge, training), and a Bearer token for the member.
- ``wrk`` (Debian's package, installed here when missing and run as root) drives each page with
  ``--threads`` threads and ``--connections`` connections for ``--duration`` seconds; pages are
  interleaved (for each round, every page in turn, the bare view first) so that all of them see
  the same load of a shared machine. bench/wrk_report.lua makes wrk print one JSON line, with
  every status outside 2xx counted.
- Before each timing the page is fetched once and checked (status 200 without a redirect, and a
  marker showing it is the right page with the right data): a failed check stops the run with
  exit status 1. The servers, the database and the cache's redis-server are removed at the end,
  also on an error or Ctrl+C.
"""

import argparse
import base64
import contextlib
import datetime
import io
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import harness  # bench/, the script's own directory, is on sys.path

ROOT = harness.ROOT
PY = sys.executable
WRK_SCRIPT = Path(__file__).resolve().parent / "wrk_report.lua"
WRK_PREFIX = "WRK-REPORT "

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432"
MEMBER_ORDERS = 46
BACK_OFFICE_ROWS = 50
API_PAGE_SIZE = 20
MEMBER_LOGIN = "pagebench"
STAFF_LOGIN = "cs_sato"  # load_demo's customer-service account: it may read orders
# Every request, the checks' and wrk's: as behind deploy/nginx/kirakira.conf (the HTTPS redirect
# stays on and does not fire), in the site's default language.
COMMON_HEADERS = {"X-Forwarded-Proto": "https", "Accept-Language": "ja"}
READY_SECONDS = 60
DRAIN_SECONDS = 120


# --- Set-up, in a child process with Kirakira's settings --------------------------------------


def setup_child() -> int:
    """Migrates, loads the demo data, the member's orders and the logins; prints what the parent
    needs (cookies, token, markers) as harness's result line."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from kirakira.accounts.gate.testing import staff_pass_the_gate_on_login
    from kirakira.accounts.services import member_token_create
    from kirakira.common import clock
    from kirakira.orders import services as order_services
    from kirakira.orders.models import Order
    from kirakira.orders.selectors import services_on_sale

    call_command("migrate", interactive=False, verbosity=0)
    # load_demo lists its accounts and their development password: not for this output.
    call_command("load_demo", stdout=io.StringIO())

    User = get_user_model()
    member = User.objects.create_user(
        MEMBER_LOGIN,
        "ベンチ 花子",
        f"{MEMBER_LOGIN}@example.com",
        password=secrets.token_urlsafe(24),
        email_confirmed_at=clock.now(),
        language="ja",
    )
    on_sale = [s for s in services_on_sale() if s.platforms.all()]
    if not on_sale:
        raise SystemExit("load_demo left no service on sale with a platform")

    def place(who, n):
        service = on_sale[n % len(on_sale)]
        platforms = list(service.platforms.all())
        chosen = next((p for p in platforms if p.code == "instagram"), platforms[0])
        return order_services.order_place(
            member=who,
            service=service,
            platform=chosen.code,
            sns_account_id=f"bench.member{n}",
            photo_links=[
                f"https://photos.example.com/bench/{n}/{i}.jpg" for i in range(service.photo_link_count)
            ],
            note="",
            phone="090-1234-5678",
        )

    for n in range(MEMBER_ORDERS):
        place(member, n)
    # The back office's list shows at least BACK_OFFICE_ROWS orders: another member's fill the gap.
    extra = User.objects.get(login_id="hanako")
    n = MEMBER_ORDERS
    while Order.objects.count() < BACK_OFFICE_ROWS:
        place(extra, n)
        n += 1

    member_orders = list(Order.objects.filter(member=member).order_by("-created_at", "-pk"))
    newest = member_orders[0]

    member_client = Client()
    member_client.force_login(member)
    staff = User.objects.get(login_id=STAFF_LOGIN)
    staff_client = Client()
    with staff_pass_the_gate_on_login():
        staff_client.force_login(staff)
    _instance, token = member_token_create(user=member, client="bench/pages.py")

    from django.contrib import admin

    from kirakira.orders.views import OrderListView

    cookie = settings.SESSION_COOKIE_NAME
    references = list(Order.objects.values_list("reference", flat=True))
    harness.report(
        {
            "session_cookie": cookie,
            "member_session": member_client.cookies[cookie].value,
            "staff_session": staff_client.cookies[cookie].value,
            "token": token,
            "member_login": member.login_id,
            "member_order_ids": [str(order.pk) for order in member_orders],
            "newest_order_id": str(newest.pk),
            "newest_reference": newest.reference,
            "references": references,
            "member_page_size": OrderListView.paginate_by,
            "back_office_rows": min(len(references), admin.site.get_model_admin(Order).list_per_page),
            "service_name": on_sale[0].name_ja,
            "officer_email": settings.PRIVACY_OFFICER_EMAIL,
        }
    )
    return 0


# --- Pages and their checks -------------------------------------------------------------------


@dataclass
class Page:
    key: str
    label: str
    url: str
    headers: dict[str, str]
    check: object  # (status, body bytes) -> None, or raises CheckFailed
    probe: str = ""  # a cheap URL of the same server, to see when it is idle again
    results: list[dict] = field(default_factory=list)


class CheckFailed(Exception):
    pass


def _text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")


def _contains(*markers: str):
    def check(body: bytes) -> None:
        text = _text(body)
        missing = [m for m in markers if m not in text]
        if missing:
            raise CheckFailed(f"the page lacks {missing!r}")

    return check


def _bare(body: bytes) -> None:
    if json.loads(body).get("bare") is not True:
        raise CheckFailed("not the bare view's JSON")


def _api_orders(facts: dict):
    def check(body: bytes) -> None:
        data = json.loads(body)
        results = data.get("results") if isinstance(data, dict) else None
        if results is None:
            raise CheckFailed("not a page of the API (no 'results')")
        ids = [item.get("id") for item in results]
        if len(ids) != API_PAGE_SIZE:
            raise CheckFailed(f"{len(ids)} orders on the page, expected {API_PAGE_SIZE}")
        if ids[0] != facts["newest_order_id"] or not set(ids) <= set(facts["member_order_ids"]):
            raise CheckFailed("not the member's newest orders")

    return check


def _back_office(facts: dict):
    def check(body: bytes) -> None:
        text = _text(body)
        if 'id="result_list"' not in text:
            raise CheckFailed("no change list on the page (a gate or login page?)")
        shown = sum(1 for reference in facts["references"] if reference in text)
        if shown != facts["back_office_rows"]:
            raise CheckFailed(f"{shown} orders listed, expected {facts['back_office_rows']}")

    return check


def make_pages(bare_base: str, base: str, facts: dict, wanted: set[str] | None) -> list[Page]:
    cookie = facts["session_cookie"]
    member = {"Cookie": f"{cookie}={facts['member_session']}"}
    staff = {"Cookie": f"{cookie}={facts['staff_session']}"}
    bearer = {"Authorization": f"Bearer {facts['token']}"}
    pages = [
        Page("bare", "bare Django JSON view (no database), same gunicorn", f"{bare_base}/", {}, _bare),
        Page("home", "home, visitor", f"{base}/", {}, _contains(facts["service_name"])),
        Page(
            "policy",
            "privacy policy, visitor",
            f"{base}/privacy/policy/",
            {},
            _contains(facts["officer_email"]),
        ),
        Page(
            "my_orders",
            f"my orders ({MEMBER_ORDERS}, {facts['member_page_size']} a page), member",
            f"{base}/orders/",
            member,
            _contains(facts["newest_reference"]),
        ),
        Page(
            "order",
            "one order, member",
            f"{base}/orders/{facts['newest_order_id']}/",
            member,
            _contains(facts["newest_reference"]),
        ),
        Page(
            "api_orders",
            f"`GET /api/v1/orders` (page of {API_PAGE_SIZE}), Bearer",
            f"{base}/api/v1/orders?page_size={API_PAGE_SIZE}",
            bearer,
            _api_orders(facts),
        ),
        Page(
            "back_office",
            f"back-office order list ({facts['back_office_rows']} a page), staff, access log on",
            f"{base}/backoffice/orders/order/",
            staff,
            _back_office(facts),
        ),
    ]
    for page in pages:
        page.headers = {**COMMON_HEADERS, **page.headers}
        page.probe = f"{bare_base}/" if page.key == "bare" else f"{base}/healthz"
    if wanted:
        pages = [page for page in pages if page.key == "bare" or page.key in wanted]
    return pages


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect (to the login page, the gate, HTTPS) is an answer to check, not to follow."""

    def redirect_request(self, *args, **kwargs):
        return None


# No proxy from the environment: the servers are on this machine.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def fetch(url: str, headers: dict[str, str]) -> tuple[int, bytes, str]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - our own local servers
    try:
        with _opener.open(request, timeout=30) as response:
            return response.status, response.read(), response.headers.get("Location", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("Location", "")


def check_page(page: Page) -> None:
    status, body, location = fetch(page.url, page.headers)
    if status != 200:
        where = f" to {location}" if location else ""
        raise CheckFailed(f"HTTP {status}{where}, expected 200: {_text(body[:300])!r}")
    page.check(body)


# --- Load generator ---------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing: installing Debian's package (apt-get install -y wrk).", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "wrk"]
        if subprocess.run(install, env=env, check=False).returncode != 0:  # noqa: S603
            subprocess.run(["apt-get", "update", "-q"], env=env, check=False)  # noqa: S603, S607
            subprocess.run(install, env=env, check=False)  # noqa: S603
        found = shutil.which("wrk")
        if found:
            return found
    raise SystemExit(
        "bench/pages.py needs the load generator wrk: install Debian's package with "
        "`sudo apt-get install wrk` (or run this script as root, which installs it)."
    )


def run_wrk(wrk: str, page: Page, args, seconds: float) -> dict:
    command = [
        wrk,
        f"--threads={args.threads}",
        f"--connections={args.connections}",
        f"--duration={max(1, round(seconds))}s",
        f"--timeout={args.timeout}s",
        f"--script={WRK_SCRIPT}",
    ]
    for name, value in page.headers.items():
        command += ["--header", f"{name}: {value}"]
    command.append(page.url)
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    for line in done.stdout.splitlines():
        if line.startswith(WRK_PREFIX):
            result = json.loads(line[len(WRK_PREFIX) :])
            result["socket_errors"] = sum(
                result[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
            )
            return result
    raise RuntimeError(
        f"wrk gave no result (exit {done.returncode}): {done.stderr.strip() or done.stdout[-500:]}"
    )


def drain(page: Page) -> float:
    """Waits until the server just driven is idle; returns the seconds it took.

    When wrk stops, up to ``--connections`` requests are still queued at the server, and
    gunicorn's sync workers serve them although their client has gone: without this wait they
    would be served while the next page is timed, and counted against it. A probe queues behind
    them; a few quick answers in a row mean the workers are free."""
    started = time.monotonic()
    deadline = started + DRAIN_SECONDS
    quick = 0
    while quick < 3 and time.monotonic() < deadline:
        sent = time.monotonic()
        with contextlib.suppress(OSError):
            fetch(page.probe, COMMON_HEADERS)
        quick = quick + 1 if time.monotonic() - sent < 0.1 else 0
    if quick < 3:
        print(
            f"  ({page.key}: the server was still busy {DRAIN_SECONDS} s after the load stopped)", flush=True
        )
    return time.monotonic() - started


# --- Servers, database, cache: started here, removed at the end -------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def b64key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


class Run:
    """What this run starts and creates, so that ``close`` removes exactly that."""

    def __init__(self):
        self.work = Path(tempfile.mkdtemp(prefix="kirakira-bench-pages-"))
        self.servers: list[tuple[str, subprocess.Popen, Path]] = []
        self.pg_url: str | None = None
        self.pg_name: str | None = None
        self.redis: subprocess.Popen | None = None

    def start_redis(self) -> str | None:
        """A Redis of this run's own (nothing else's keys to mix with, nothing left behind), or
        ``None`` when redis-server is not installed."""
        binary = shutil.which("redis-server")
        if binary is None:
            return None
        port = free_port()
        self.redis = subprocess.Popen(  # noqa: S603
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                return f"redis://127.0.0.1:{port}/0"
            if self.redis.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def start_server(self, name: str, env: dict, port: int) -> None:
        log = self.work / f"{name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(  # noqa: S603 - gunicorn of our own virtualenv
                [
                    str(Path(PY).parent / "gunicorn"),
                    "-c",
                    "config/gunicorn.py",
                    # Two servers here (and perhaps others on the machine) would share the one
                    # default control socket; nothing here uses it.
                    *(["--no-control-socket"] if _gunicorn_has("control_socket_disable") else []),
                ],
                cwd=ROOT,
                env={**env, "BIND": f"127.0.0.1:{port}"},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.servers.append((name, proc, log))

    def wait_ready(self, name: str, url: str) -> None:
        proc, log = next((p, lg) for n, p, lg in self.servers if n == name)
        deadline = time.monotonic() + READY_SECONDS
        last = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{name}: gunicorn exited ({proc.returncode}):\n{tail(log)}")
            try:
                status, _body, _location = fetch(url, COMMON_HEADERS)
                if status == 200:
                    return
                last = f"HTTP {status}"
            except OSError as error:
                last = str(error)
            time.sleep(0.3)
        raise RuntimeError(f"{name}: not ready within {READY_SECONDS} s ({last}):\n{tail(log)}")

    def close(self) -> None:
        for _name, proc, _log in self.servers:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        for name, proc, _log in self.servers:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                print(
                    f"{name}: gunicorn did not stop within 20 s: killing its process group", file=sys.stderr
                )
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.servers = []
        if self.pg_name:
            try:
                harness._drop_postgres_database(self.pg_url, self.pg_name)
            except Exception as error:  # noqa: BLE001 - go on removing the rest
                print(f"could not drop the database {self.pg_name}: {error}", file=sys.stderr)
            self.pg_name = None
        if self.redis is not None:
            self.redis.terminate()
            try:
                self.redis.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.redis.kill()
                self.redis.wait()
            self.redis = None
        shutil.rmtree(self.work, ignore_errors=True)


def _gunicorn_has(setting: str) -> bool:
    from gunicorn.config import Config

    return setting in Config().settings


def tail(path: Path, lines: int = 25) -> str:
    """The end of a server's log, without its access lines."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    kept = [line for line in text if '"gunicorn.access"' not in line]
    return "\n".join(kept[-lines:])


def run_quiet(command: list[str], env: dict, what: str) -> str:
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(
            f"{what} failed (exit {done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return done.stdout


# --- The machine ------------------------------------------------------------------------------


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def load_average() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "unknown"


def postgres_version(url: str) -> str:
    import psycopg

    with psycopg.connect(harness.maintenance_url(url), connect_timeout=5) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = [f"Python {platform.python_version()}"]
    for package in ("Django", "gunicorn", "psycopg"):
        with contextlib.suppress(PackageNotFoundError):
            parts.append(f"{package} {version(package)}")
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)  # noqa: S607
    found = re.search(r"wrk\s+(\S+)", wrk.stdout + wrk.stderr)
    if found:
        parts.append(f"wrk {found.group(1)}")
    return ", ".join(parts)


def code_version() -> str:
    def git(*args):
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603, S607
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD")
    if not head:
        return "unknown"
    return head + (
        " with uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else ""
    )


# --- Report -----------------------------------------------------------------------------------


def summarise(pages: list[Page]) -> list[dict]:
    bare = pages[0]
    rows = []
    for page in pages:
        rates = [r["requests_per_second"] for r in page.results]
        shares = [
            r["requests_per_second"] / b["requests_per_second"]
            for r, b in zip(page.results, bare.results, strict=True)
            if b["requests_per_second"] > 0
        ]
        rows.append(
            {
                "page": page.key,
                "label": page.label,
                "rounds": len(rates),
                "requests_per_second": statistics.median(rates),
                "requests_per_second_min": min(rates),
                "requests_per_second_max": max(rates),
                "share_of_bare": statistics.median(shares) if shares else None,
                "share_of_bare_min": min(shares) if shares else None,
                "share_of_bare_max": max(shares) if shares else None,
                "p50_ms": statistics.median(r["p50_ms"] for r in page.results),
                "p99_ms": statistics.median(r["p99_ms"] for r in page.results),
                "p99_ms_max": max(r["p99_ms"] for r in page.results),
                "non_2xx": sum(r["non_2xx"] for r in page.results),
                "socket_errors": sum(r["socket_errors"] for r in page.results),
                "requests": sum(r["requests"] for r in page.results),
            }
        )
    return rows


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def table(rows: list[dict]) -> str:
    lines = [
        "| page | requests/s (median, range) | share of bare Django | p50 | p99 | non-2xx | socket errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        share = "100%" if row["page"] == "bare" else f"{row['share_of_bare']:.1%}"
        lines.append(
            f"| {row['label']} | {_rate(row['requests_per_second'])} "
            f"({_rate(row['requests_per_second_min'])}–{_rate(row['requests_per_second_max'])}) "
            f"| {share} | {row['p50_ms']:.1f} ms | {row['p99_ms']:.1f} ms "
            f"| {row['non_2xx']} | {row['socket_errors']} |"
        )
    return "\n".join(lines)


# --- The run ----------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds of load per page and round (10)"
    )
    parser.add_argument("--quick", action="store_true", help="2 s per page and 1 s of warm-up: a smoke run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each page once per round (3)")
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="seconds of load per page before round 1 (2)"
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--timeout", type=int, default=10, help="wrk's socket timeout in seconds (10)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers, WEB_WORKERS (2)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"PostgreSQL server ({DEFAULT_PG_URL})")
    parser.add_argument(
        "--cache-url",
        default="",
        help="a shared cache to use (CACHE_URL), left as it is at the end; by default a redis-server "
        "started for this run, or a file cache without one",
    )
    parser.add_argument(
        "--pages", default="", help="comma-separated page keys (all); the bare view always runs"
    )
    parser.add_argument("--json", type=Path, help="also write the rounds and the summary here")
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.duration = 2.0
        args.warmup = min(args.warmup, 1.0)
    if args.rounds < 1 or args.duration < 1 or args.connections < args.threads:
        parser.error("rounds and duration must be at least 1, and connections at least threads")
    return args


def measure(args, run: Run) -> int:
    wrk = ensure_wrk()
    if not harness.postgres_reachable(f"{args.pg_url.rstrip('/')}/postgres"):
        print(f"PostgreSQL does not answer at {args.pg_url}: this benchmark needs it.", file=sys.stderr)
        return 2
    started = datetime.datetime.now(datetime.UTC)
    load_before = load_average()

    run.pg_url = f"{args.pg_url.rstrip('/')}/bench_pages_{os.getpid()}"
    run.pg_name = harness._create_postgres_database(run.pg_url)
    cache_url = args.cache_url or run.start_redis()
    if args.cache_url:
        cache_label = f"as given ({cache_url})"
    elif cache_url:
        cache_label = f"Redis, a redis-server of this run's own ({cache_url})"
    else:
        (run.work / "cache").mkdir()
        cache_url = f"filecache://{run.work / 'cache'}"
        cache_label = "file cache (no redis-server installed)"
    (run.work / "mail").mkdir()
    port, bare_port = free_port(), free_port()

    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("KIRAKIRA_PRODUCTION", "DATABASE_URL", "CACHE_URL", "WEB_PROCESSES", "SENTRY_DSN")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONPATH=str(ROOT),
        DEBUG="0",
        DATABASE_URL=run.pg_url,
        CACHE_URL=cache_url,
        KIRAKIRA_VAR_DIR=str(run.work / "var"),
        SECRET_KEY=secrets.token_urlsafe(64),
        PRIVACY_MASTER_KEYS=f"bench-1:{b64key()}",
        PRIVACY_ACTIVE_MASTER_KEY="bench-1",
        PRIVACY_BLIND_INDEX_KEY=b64key(),
        BACKUP_KEY=b64key(),
        ALLOWED_HOSTS="127.0.0.1",
        SITE_URL=f"http://127.0.0.1:{port}",
        # Four slashes: django-environ drops the first of the path.
        EMAIL_URL=f"filemail:///{run.work / 'mail'}",
        WEB_WORKERS=str(args.workers),
        WEB_THREADS="1",
    )
    production = {**env, "KIRAKIRA_PRODUCTION": "1", "BEHIND_TLS_PROXY": "1", "TRUSTED_PROXIES": "127.0.0.1"}
    bare_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.bare.settings"}

    print(
        f"Database {run.pg_name}: migrating, demo data, a member with {MEMBER_ORDERS} orders...", flush=True
    )
    t0 = time.monotonic()
    # load_demo refuses production (known passwords): the data is made with the same keys and
    # database under the development settings, then served under the production ones.
    output = run_quiet([PY, str(Path(__file__).resolve()), "--setup"], env, "the set-up")
    facts = next(
        json.loads(line[len(harness.RESULT_PREFIX) :])
        for line in output.splitlines()
        if line.startswith(harness.RESULT_PREFIX)
    )
    run_quiet([PY, "manage.py", "collectstatic", "--noinput", "-v", "0"], production, "collectstatic")
    print(
        f"  ready in {time.monotonic() - t0:.0f} s; starting gunicorn ({args.workers} sync workers)",
        flush=True,
    )

    run.start_server("kirakira", production, port)
    run.start_server("bare", bare_env, bare_port)
    run.wait_ready("kirakira", f"http://127.0.0.1:{port}/healthz")
    run.wait_ready("bare", f"http://127.0.0.1:{bare_port}/")

    wanted = {key.strip() for key in args.pages.split(",") if key.strip()} or None
    pages = make_pages(f"http://127.0.0.1:{bare_port}", f"http://127.0.0.1:{port}", facts, wanted)
    unknown = (wanted or set()) - {page.key for page in pages}
    if unknown:
        print(f"unknown page keys: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2

    def checked(page: Page) -> bool:
        try:
            check_page(page)
        except (CheckFailed, OSError, ValueError) as error:
            print(f"CHECK FAILED: {page.key} ({page.url}): {error}", file=sys.stderr)
            server = "bare" if page.key == "bare" else "kirakira"
            log = next(lg for n, _p, lg in run.servers if n == server)
            print(f"--- the end of {server}'s log:\n{tail(log)}", file=sys.stderr)
            return False
        return True

    per_page = len(pages) * (args.duration + 0.5)
    print(
        f"Pages: {', '.join(page.key for page in pages)}; {args.rounds} rounds of {args.duration:g} s each "
        f"(about {(args.rounds * per_page + len(pages) * args.warmup) / 60:.1f} min)",
        flush=True,
    )
    for page in pages:
        if not checked(page):
            return 1
        if args.warmup > 0:
            run_wrk(wrk, page, args, args.warmup)
            drain(page)
    for number in range(1, args.rounds + 1):
        for page in pages:
            if not checked(page):
                return 1
            result = run_wrk(wrk, page, args, args.duration)
            result["round"] = number
            result["drain_seconds"] = round(drain(page), 2)
            page.results.append(result)
            print(
                f"  round {number}/{args.rounds}  {page.key:<12} {result['requests_per_second']:9.1f} req/s  "
                f"p50 {result['p50_ms']:7.1f} ms  p99 {result['p99_ms']:7.1f} ms  "
                f"non-2xx {result['non_2xx']}  socket errors {result['socket_errors']}  "
                f"(idle again after {result['drain_seconds']:.1f} s)",
                flush=True,
            )

    rows = summarise(pages)
    pg_version = postgres_version(args.pg_url)
    print()
    print(f"Kirakira pages measured from outside (bench/pages.py), {started:%Y-%m-%d %H:%M} UTC")
    print(
        f"Machine: {os.cpu_count()} CPUs, {cpu_model()}; load average {load_before} before, {load_average()} after"
    )
    print(f"PostgreSQL {pg_version}; {versions()}; code {code_version()}")
    print(
        f"Server: gunicorn -c config/gunicorn.py, {args.workers} sync workers of 1 thread, KIRAKIRA_PRODUCTION=1, "
        f"DEBUG=0, cache: {cache_label}"
    )
    print(
        f"Load: wrk, {args.threads} threads, {args.connections} connections, {args.duration:g} s per page, "
        f"{args.rounds} rounds interleaved; medians of the rounds (share of bare: median of the per-round ratios)"
    )
    print()
    print(table(rows))
    errors = sum(row["non_2xx"] + row["socket_errors"] for row in rows)
    if errors:
        print(f"\nWARNING: {errors} responses were not 2xx or failed at the socket: see the table.")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "date": started.isoformat(timespec="seconds"),
                    "cpus": os.cpu_count(),
                    "cpu_model": cpu_model(),
                    "postgresql": pg_version,
                    "versions": versions(),
                    "code": code_version(),
                    "options": {
                        k: (str(v) if isinstance(v, Path) else v)
                        for k, v in vars(args).items()
                        if k != "setup"
                    },
                    "summary": rows,
                    "rounds": {page.key: page.results for page in pages},
                },
                indent=2,
            )
        )
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.setup:
        return setup_child()

    def stop(signum, _frame):
        print(f"\nSignal {signum}: stopping the servers and dropping the database.", file=sys.stderr)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    # A shell starting this in the background ignores SIGINT for it: Ctrl+C and kill -INT must
    # still end the run cleanly.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    run = Run()
    try:
        return measure(args, run)
    except KeyboardInterrupt:
        print("\nInterrupted: stopping the servers and dropping the database.", file=sys.stderr)
        return 130
    except RuntimeError as error:
        print(f"bench/pages.py: {error}", file=sys.stderr)
        return 1
    finally:
        # A second Ctrl+C must not leave the servers or the database behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        run.close()


if __name__ == "__main__":
    sys.exit(main())
