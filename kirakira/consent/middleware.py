import functools

from django.utils.cache import patch_vary_headers
from django.utils.deprecation import MiddlewareMixin

from . import cookies, selectors


class ConsentMiddleware(MiddlewareMixin):
    """Reads the consent and preferences cookies into ``request.consent`` and, on the way out,
    writes back exactly what the state allows: a preferences cookie only with consent, and a
    tampered, oversized or orphaned cookie replaced or deleted (policy C8)."""

    def process_request(self, request):
        # Looked up at most once per request, and only when needed (the banner asks it too).
        request.consent_digest = functools.cache(selectors.current_digest)
        request.consent = cookies.read(request.COOKIES, current_digest=request.consent_digest)

    def process_response(self, request, response):
        state = getattr(request, "consent", None)
        if state is not None:
            cookies.write(state, response)
            patch_vary_headers(response, ("Cookie",))
        return response
