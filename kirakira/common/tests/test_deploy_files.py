"""The sample deployment files (deploy/) stay in step with the settings they describe."""

import re
import runpy
from pathlib import Path

from django.conf import settings

from kirakira.consultations.attachments import MAX_FILES

DEPLOY = Path(settings.BASE_DIR) / "deploy"
SETTINGS_SOURCE = Path(settings.BASE_DIR) / "config" / "settings.py"

# env.str("X", env.int("X", env.bool(, env.db(, env.cache_url(, env.list(... with the name
# possibly on the next line, environ.Env().str("X"), os.environ.get("X"), os.getenv("X").
_ENV_READS = [
    re.compile(r'\benv\.\w+\(\s*["\']([A-Z][A-Z0-9_]*)["\']'),
    re.compile(r'\bEnv\(\)\.\w+\(\s*["\']([A-Z][A-Z0-9_]*)["\']'),
    re.compile(r'\benviron\.get\(\s*["\']([A-Z][A-Z0-9_]*)["\']'),
    re.compile(r'\benviron\[\s*["\']([A-Z][A-Z0-9_]*)["\']\s*\]'),
    re.compile(r'\bgetenv\(\s*["\']([A-Z][A-Z0-9_]*)["\']'),
]
# Set by the launcher, not by the operator.
_NOT_SETTINGS = {"DJANGO_SETTINGS_MODULE"}


def settings_env_names(source: str) -> set[str]:
    return {name for pattern in _ENV_READS for name in pattern.findall(source)} - _NOT_SETTINGS


def template_names(text: str) -> set[str]:
    """Names set in the template, or shown commented out with their default ("# NAME=...")."""
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def test_the_parser_finds_every_kind_of_read():
    source = """
X = env.str("A_ONE", default="")
Y = env.int(
    "A_TWO", default=1
)
DATABASES = {"default": env.db("A_THREE", default="sqlite://")}
CACHES = {"default": env.cache_url("A_FOUR")}
V = Path(environ.Env().str("A_FIVE", default="x"))
W = os.environ.get("A_SIX")
Z = os.getenv('A_SEVEN')
"""
    assert settings_env_names(source) == {"A_ONE", "A_TWO", "A_THREE", "A_FOUR", "A_FIVE", "A_SIX", "A_SEVEN"}


def test_the_environment_template_lists_every_setting_read_from_the_environment():
    read = settings_env_names(SETTINGS_SOURCE.read_text())
    assert {
        "DATABASE_URL",
        "CACHE_URL",
        "SECRET_KEY",
        "WEB_WORKERS",
        "WEB_THREADS",
    } <= read  # the parser works
    listed = template_names((DEPLOY / "kirakira.env.example").read_text())
    missing = sorted(read - listed)
    assert not missing, f"deploy/kirakira.env.example does not list: {', '.join(missing)}"


def test_the_environment_template_holds_no_secret_values():
    text = (DEPLOY / "kirakira.env.example").read_text()
    for name in ("SECRET_KEY", "PRIVACY_MASTER_KEYS", "PRIVACY_ACTIVE_MASTER_KEY", "PRIVACY_BLIND_INDEX_KEY"):
        assert re.search(rf"^{name}=$", text, flags=re.MULTILINE), name


def test_the_proxy_takes_the_largest_upload_and_not_much_more():
    text = (DEPLOY / "nginx" / "kirakira.conf").read_text()
    size = re.search(r"client_max_body_size\s+(\d+)m;", text)
    assert size
    limit = int(size.group(1)) * 1024 * 1024
    largest = MAX_FILES * settings.UPLOAD_FILE_MAX_BYTES
    assert largest < limit <= largest + 4 * 1024 * 1024


def test_the_proxy_passes_the_client_address_and_scheme():
    text = (DEPLOY / "nginx" / "kirakira.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in text
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in text
    assert re.search(r"proxy_read_timeout\s+\d+s;", text)


def test_the_units_restart_on_failure_as_an_unprivileged_user_without_migrating():
    for unit in ("kirakira-web.service", "kirakira-worker.service"):
        text = (DEPLOY / "systemd" / unit).read_text()
        assert "Restart=on-failure" in text, unit
        assert "EnvironmentFile=/etc/kirakira/kirakira.env" in text, unit
        user = re.search(r"^User=(\S+)$", text, flags=re.MULTILINE)
        assert user and user.group(1) != "root", unit
        assert not re.search(r"^ExecStartPre=.*migrate", text, flags=re.MULTILINE), unit
        # Migrations are an upgrade step: no ExecStart line runs them either.
        assert not re.search(r"^ExecStart=.*migrate", text, flags=re.MULTILINE), unit


def test_gunicorn_takes_its_workers_from_the_settings_and_keeps_no_access_log(monkeypatch, settings):
    settings.WEB_WORKERS, settings.WEB_THREADS = 3, 5
    monkeypatch.delenv("BIND", raising=False)
    monkeypatch.setenv("PORT", "8123")
    config = runpy.run_path(str(Path(settings.BASE_DIR) / "config" / "gunicorn.py"))
    assert (config["workers"], config["threads"]) == (3, 5)
    assert config["bind"] == ["127.0.0.1:8123"]
    assert config["accesslog"] is None
    # The proxy gives up before gunicorn kills a slow worker.
    nginx = (DEPLOY / "nginx" / "kirakira.conf").read_text()
    assert int(re.search(r"proxy_read_timeout\s+(\d+)s;", nginx).group(1)) < config["timeout"]


GUNICORN_SOURCE = Path(settings.BASE_DIR) / "config" / "gunicorn.py"
README = Path(settings.BASE_DIR) / "README.md"


def readme_configuration_names() -> set[str]:
    """The names in the first column of README's configuration table."""
    text = README.read_text()
    table = text[text.index("\n## Configuration\n") :]
    table = table[: table.index("\n## ", 1)]
    names = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]*)`", first_cell))
    return names


# What the launchers of `make run` and `make prod` read themselves: ${NAME:-default}.
LAUNCHERS = [Path(settings.BASE_DIR) / "scripts" / name for name in ("serve-dev", "prod")]


def launcher_env_names(source: str) -> set[str]:
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):-", source))


def test_the_readme_configuration_table_lists_every_setting_the_code_reads():
    read = settings_env_names(SETTINGS_SOURCE.read_text()) | settings_env_names(GUNICORN_SOURCE.read_text())
    for launcher in LAUNCHERS:
        read |= launcher_env_names(launcher.read_text())
    assert {"DATABASE_URL", "BIND", "WEB_TIMEOUT", "WORKER_RESTART_DELAY"} <= read  # every source was parsed
    listed = readme_configuration_names()
    missing = sorted(read - listed)
    assert not missing, f"README's configuration table does not list: {', '.join(missing)}"
    # and names nothing the code does not read (a renamed or removed setting)
    assert not sorted(listed - read), f"README lists settings the code does not read: {sorted(listed - read)}"
