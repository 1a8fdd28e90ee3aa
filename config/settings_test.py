"""Test settings: the real settings plus a test-only app with encrypted models."""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS, PASSWORD_HASHERS

INSTALLED_APPS = [*INSTALLED_APPS, "kirakira.privacy.tests.testapp"]
# The fernet peer of the encryption benchmark derives its key from this.
SALT_KEY = ["kirakira-benchmark-salt"]
# Argon2 with the cheapest parameters first (kirakira/common/testing.py says why).
PASSWORD_HASHERS = ["kirakira.common.testing.FastArgon2PasswordHasher", *PASSWORD_HASHERS]
