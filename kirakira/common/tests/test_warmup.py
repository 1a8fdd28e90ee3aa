"""What gunicorn's master builds before forking (kirakira/common/warmup.py): every template of
the project compiled, the chrome drawn, and nothing that a forked worker would share a socket
with — no database query and no cache call."""

import pytest
from django.core.cache.backends.base import BaseCache
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext

from kirakira.common import warmup
from kirakira.common.templatetags import chrome


class RefusingCache(BaseCache):
    """Any use fails the test: the master must not open a connection to the shared cache."""

    def __init__(self, *args, **kwargs):
        super().__init__({})

    def _refuse(self, *args, **kwargs):
        raise AssertionError("the warm-up used the shared cache")

    add = get = set = touch = delete = clear = incr = get_many = set_many = has_key = _refuse


@pytest.mark.django_db
def test_the_warm_up_compiles_every_template_and_uses_neither_database_nor_cache(settings):
    settings.CACHES = {"default": {"BACKEND": f"{__name__}.RefusingCache"}}
    settings.PAGE_CACHE_SECONDS = 120
    loader = engines["django"].engine.template_loaders[0]
    loader.reset()
    chrome._header.cache_clear()
    chrome._footer.cache_clear()
    with CaptureQueriesContext(connection) as queries:
        done = warmup.warm_process()
    assert queries.captured_queries == []
    names = warmup.template_names()
    assert "base.html" in names and "orders/order_detail.html" in names
    assert not any(".venv" in name for name in names)
    assert done["templates"] >= len(names) - 5  # a few fragments do not stand alone
    cached = {key.split("-")[0] for key in loader.get_template_cache}
    assert {"base.html", "orders/order_detail.html", "chrome/header.html"} <= cached
    # The header and footer of every language and login state are drawn.
    assert chrome._header.cache_info().currsize == 2 * len(settings.LANGUAGES)
    assert chrome._footer.cache_info().currsize == len(settings.LANGUAGES)
