"""Test set-up shared by every app: tasks run at once (a few tests start a real worker), and
the languages' catalogs come from the repository."""

import pytest

# The real-browser fixtures (browser, open_page) for the tests marked "browser".
pytest_plugins = ["kirakira.common.browser_testing"]


# First of the autouse fixtures, so that it watches the others' set-up and tear-down too.
@pytest.fixture(autouse=True)
def personal_data_capture():
    """A test fails when a log record (any logger, any level) or a task row or task result
    written during it holds the email, phone, name or SNS ID of a row saved during it
    (kirakira/common/pii_capture.py): the catalog declares logs and task rows free of them."""
    from kirakira.common.pii_capture import Capture

    capture = Capture()
    capture.start()
    try:
        yield capture
    finally:
        capture.stop()
    leaks = capture.leaks()
    if leaks:
        pytest.fail("Personal data where the catalog says there is none:\n" + "\n".join(leaks), pytrace=False)


@pytest.fixture(autouse=True)
def _no_page_from_another_test(settings):
    """Tests change the catalog, the capabilities and the settings a page is drawn from while
    the code runs, which a deployment never does (the page cache's key holds a fingerprint of
    the code and settings at start): the page cache is off but where a test turns it on
    (kirakira/common/tests/test_page_cache.py), and pages cached by one test are stale for the
    next."""
    from kirakira.common import page_cache

    settings.PAGE_CACHE_SECONDS = 0
    page_cache._bump()


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.SITE_URL = "http://testserver"
    settings.TRUSTED_PROXIES = []
    settings.USAGE_LOG_ENABLED = True


@pytest.fixture(autouse=True)
def _every_cookie_is_declared(monkeypatch):
    """A test-client response that sets a cookie the cookie registry does not declare fails the
    test (policy C8: the policy page's cookie table lists every cookie the site can set)."""
    from django.test.client import Client

    original = Client.request

    def request(self, **request):
        response = original(self, **request)
        from kirakira.privacy.catalog.cookies import names

        undeclared = set(response.cookies) - names()
        assert not undeclared, (
            f"{request.get('PATH_INFO')} set cookies the registry does not declare: {undeclared}"
        )
        return response

    monkeypatch.setattr(Client, "request", request)


@pytest.fixture(autouse=True)
def _migration_data_in_transactional_tests(request):
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        from kirakira.common.testing import restore_migration_data

        restore_migration_data()


@pytest.fixture(autouse=True)
def _staff_pass_the_gate(request):
    """A staff member who logs in (``client.force_login``, the login form, a real browser) has
    passed the back office's gate (second factor in the session, the current security pledge
    accepted, a training record), as Django's test client skips the CSRF check: most tests are
    about what a role may see, not about the gate. Tests marked ``real_gate`` get the real one
    (kirakira/accounts/tests/test_staff_gate*.py)."""
    if request.node.get_closest_marker("real_gate"):
        yield
        return
    from kirakira.accounts.gate.testing import staff_pass_the_gate_on_login

    with staff_pass_the_gate_on_login():
        yield


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request under /en/ leaves English active in
    the thread, which would change what a later test's reverse() and gettext return."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()
