"""Whether a request came from one of this site's own pages."""

from urllib.parse import urlsplit

from django.conf import settings


def is_same_origin(request) -> bool:
    """True when the request's ``Origin`` (or, without it, ``Referer``) is this site. Browsers
    send one of them on form posts and, under this site's ``same-origin`` referrer policy, a
    ``Referer`` on links followed within the site; another site cannot forge either."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null":
        return False
    parts = urlsplit(source)
    origin = f"{parts.scheme}://{parts.netloc}"
    return origin == f"{request.scheme}://{request.get_host()}" or origin in settings.CSRF_TRUSTED_ORIGINS
