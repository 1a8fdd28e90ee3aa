import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Computed once here, in gunicorn's master (it preloads this module), rather than by each worker
# on its first visitor's page.
from kirakira.common.page_cache import code_fingerprint  # noqa: E402

code_fingerprint()
