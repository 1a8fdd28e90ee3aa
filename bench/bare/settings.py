"""Settings of the bare project: no database, no middleware, no apps, one JSON view.

config/gunicorn.py reads WEB_WORKERS, WEB_THREADS and LOG_FORMAT from the settings, so they are
here too, from the same environment variables as Kirakira's, so both servers run alike."""

import os
import secrets

DEBUG = False
# Nothing is signed here; a key only keeps Django from refusing to start.
SECRET_KEY = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(64)
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.bare.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
TEMPLATES: list = []
USE_I18N = False
USE_TZ = True

WEB_WORKERS = int(os.environ.get("WEB_WORKERS", "2"))
WEB_THREADS = int(os.environ.get("WEB_THREADS", "1"))
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
