"""Real-browser fixtures for tests (a pytest plugin, loaded by the root ``conftest.py``):
headless Chromium driven by Playwright against ``live_server``.

Chromium is Debian's ``chromium`` package (``.ci/run`` installs it), found on the PATH, or named
by ``KIRAKIRA_CHROMIUM``. Without it the tests that use these fixtures skip, except in CI
(``CI`` set), where they fail.
"""

import os
import shutil
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium_executable() -> str | None:
    return os.environ.get("KIRAKIRA_CHROMIUM") or shutil.which("chromium")


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the browser tests (.ci/run installs Debian's chromium)")
    pytest.skip(f"{reason} (set KIRAKIRA_CHROMIUM or install Debian's chromium package)")


@pytest.fixture
def browser(monkeypatch):
    """A fresh headless Chromium for one test (closed before the database is flushed)."""
    executable = chromium_executable()
    if not executable or not Path(executable).exists():
        _unavailable(f"no Chromium at {executable}" if executable else "no chromium executable on the PATH")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    # Playwright's sync API keeps an event loop running in this thread; the ORM calls the test
    # makes around it are still plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()
            # ORM calls made while Playwright runs live in its context (asgiref's Local follows
            # contextvars), so their connection is not the one pytest-django closes: close it
            # here, or it would block dropping the test database on PostgreSQL.
            connections.close_all()


@pytest.fixture
def open_page(browser, live_server):
    """open_page(path, locale="ja-JP") -> (page, context) of a new browser profile."""
    contexts = []

    def _open(path: str = "/", locale: str = "ja-JP"):
        context = browser.new_context(locale=locale, viewport={"width": 1000, "height": 700})
        contexts.append(context)
        page = context.new_page()
        page.goto(live_server.url + path)
        return page, context

    yield _open
    for context in contexts:
        context.close()
