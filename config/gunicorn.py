"""gunicorn's configuration: ``gunicorn -c config/gunicorn.py config.wsgi``.

Workers and threads come from Django's settings (WEB_WORKERS, WEB_THREADS), so that the settings'
start-up checks (keys, DEBUG, a shared CACHE_URL) refuse a bad environment before any worker forks.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.conf import settings  # noqa: E402 - after the settings module is named

# Loading the settings here, in the master, makes a refused configuration stop gunicorn at once
# instead of every worker failing to boot in turn.
workers = settings.WEB_WORKERS
threads = settings.WEB_THREADS
bind = [os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"]
wsgi_app = "config.wsgi:application"
# No access log: request lines carry query strings, and Django's own logs already say what
# failed. The error log is gunicorn's own (boots, worker deaths, timeouts).
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# gunicorn's own lines in the same format as Django's (one JSON object a line in production), so
# that one log collector reads both. This replaces gunicorn's default logging configuration.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"kirakira": {"()": f"kirakira.common.json_logs.{settings.LOG_FORMAT.capitalize()}Formatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "kirakira", "stream": "ext://sys.stdout"},
        "error_console": {"class": "logging.StreamHandler", "formatter": "kirakira", "stream": "ext://sys.stderr"},
    },
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": ["error_console"], "propagate": False},
        # A logging configuration turns gunicorn's access log on: kept off (see accesslog above).
        "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
    },
}
# Longer than the proxy's read timeout (deploy/nginx/kirakira.conf: 60 s), so that the proxy gives
# up first and a slow request is not killed half-way by gunicorn.
timeout = int(os.environ.get("WEB_TIMEOUT", "75"))
graceful_timeout = 30
keepalive = 5
# A worker is replaced after about this many requests, which bounds any slow leak. The
# application is loaded once in the master before the workers fork, so a replacement worker
# answers at once instead of importing Django while requests queue behind the other workers
# (a new release therefore needs a restart, not a reload).
max_requests = 20000
max_requests_jitter = 2000
preload_app = True


def when_ready(server):
    """In the master, after the application is loaded and before any worker forks: build what a
    fresh worker would otherwise build on its first requests (kirakira/common/warmup.py)."""
    import gc

    from django.apps import apps

    if not apps.is_installed("kirakira.common"):
        return  # another application under this configuration (bench/bare)
    from kirakira.common.warmup import warm_process

    server.log.info("Warmed up before forking: %s", warm_process())
    # What the master built lives as long as the workers: out of every collection, and out of
    # the copy-on-write that a collection's bookkeeping would cause in each forked worker.
    gc.collect()
    gc.freeze()

# The proxy in front sends X-Forwarded-*; only a proxy on this machine is believed by default.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
