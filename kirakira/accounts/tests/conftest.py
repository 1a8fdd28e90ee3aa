import pytest
from django.contrib.auth.hashers import make_password
from django.core.cache import cache

from kirakira.common.testing import PASSWORD, MemberFactory


@pytest.fixture
def fast_hashing(settings):
    """A cheap hasher, for tests whose subject is not hashing but that hash many times (repeated
    login attempts, the demo accounts). Members must then be made with :func:`fast_member`."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def fast_member(fast_hashing):
    def make(**fields):
        return MemberFactory(password=make_password(PASSWORD), **fields)

    return make


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """The account pages' rate limits (registration, password reset, login ID slowdown) count in
    the cache, which outlives a test's transaction."""
    cache.clear()
    yield
    cache.clear()
