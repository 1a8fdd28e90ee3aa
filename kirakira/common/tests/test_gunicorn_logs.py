"""gunicorn's own log lines (boot, workers, shutdown) are in the format of Django's: one JSON
object a line when LOG_FORMAT=json, so that one collector reads both."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_gunicorns_lines_are_json_objects_and_it_writes_no_access_log(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "KIRAKIRA_VAR_DIR": str(tmp_path),
        "LOG_FORMAT": "json",
        "WEB_WORKERS": "1",
        "PORT": (port := str(_free_port())),
    }
    server = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        lines = []
        while time.monotonic() < deadline:
            line = server.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "Booting worker" in line:
                break
        # A request with a query string: gunicorn's access log would print it.
        for _attempt in range(50):
            try:
                urlopen(f"http://127.0.0.1:{port}/healthz?secret-looking=1", timeout=5).read()  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("gunicorn did not answer")
    finally:
        server.terminate()
        rest, errors = server.communicate(timeout=30)
    lines += errors.splitlines(keepends=True)
    assert any("Booting worker" in line for line in lines), "".join(lines)
    for line in filter(str.strip, lines):
        record = json.loads(line)  # every line: one JSON object
        assert {"time", "level", "logger", "message"} <= set(record)
    assert any(json.loads(line)["logger"] == "gunicorn.error" for line in filter(str.strip, lines))
    # The master built the templates and the rest before forking (kirakira/common/warmup.py).
    warmed = [json.loads(line)["message"] for line in lines if "Warmed up before forking" in line]
    assert warmed and "'templates': " in warmed[0], "".join(lines)
    assert "secret-looking" not in rest and "secret-looking" not in "".join(lines)
