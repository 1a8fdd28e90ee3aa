from rest_framework.throttling import ScopedRateThrottle

from .client_ip import client_ip


class ScopedThrottle(ScopedRateThrottle):
    """DRF's scoped throttle, keyed by the address Kirakira trusts (see ``client_ip``) rather
    than by an ``X-Forwarded-For`` header any client can write."""

    def get_ident(self, request):
        return client_ip(request._request if hasattr(request, "_request") else request)
