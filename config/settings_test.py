"""Test settings: the real settings plus a test-only app with encrypted models."""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "kirakira.privacy.tests.testapp"]
# The fernet peer of the encryption benchmark derives its key from this.
SALT_KEY = ["kirakira-benchmark-salt"]
