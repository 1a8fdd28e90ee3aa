"""Test set-up shared by every app: tasks run at once (a few tests start a real worker), and
the languages' catalogs come from the repository."""

import pytest


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.SITE_URL = "http://testserver"
    settings.TRUSTED_PROXIES = []
    settings.USAGE_LOG_ENABLED = True


@pytest.fixture(autouse=True)
def _migration_data_in_transactional_tests(request):
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        from kirakira.common.testing import restore_migration_data

        restore_migration_data()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request under /en/ leaves English active in
    the thread, which would change what a later test's reverse() and gettext return."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()
