"""The cookie choice and the "don't show again" of popups (policy C8).

CSRF: these two endpoints are exempt from Django's token check on purpose. A token would need the
``csrftoken`` cookie, and an anonymous visitor reading pages must get no cookie at all before
choosing. What they change is only the requesting browser's own preference cookies (no account,
nobody else's data), and forgery is still refused: a POST is accepted only when its ``Origin``
(or, failing that, ``Referer``) is this site, which every current browser sends on a form post
and a cross-site page cannot fake; the cookies themselves are ``SameSite=Lax``.
"""

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView

from kirakira.common.client_ip import client_rate_limit_key
from kirakira.common.errors import too_many_requests
from kirakira.common.origin import is_same_origin
from kirakira.common.ratelimit import over_limit

from . import services
from .cookies import CHOICES


def _back(request) -> HttpResponseRedirect:
    """Back to the page the form was on (only a path of this site), else home."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("home")
    response = HttpResponseRedirect(target)
    response.status_code = 303
    return response


class _SameOriginPost(View):
    http_method_names = ["get", "post"]

    @method_decorator(csrf_exempt)
    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST" and not is_same_origin(request):
            raise PermissionDenied("cross-site cookie choice")
        return super().dispatch(request, *args, **kwargs)


class ConsentView(_SameOriginPost, TemplateView):
    """GET: the cookie settings as a page (the dialog's content, for browsers without script).
    POST ``choice=accept|refuse``: record the choice and set the cookies accordingly."""

    template_name = "consent/settings.html"

    def post(self, request):
        choice = request.POST.get("choice")
        if choice not in CHOICES:
            raise BadRequest("unknown cookie choice")
        state = request.consent
        if not state.consent_valid and over_limit(
            "consent-new", client_rate_limit_key(request), limit=settings.CONSENT_NEW_RECORDS_PER_IP
        ):
            # Every choice without a consent ID adds a record; a browser makes one, a script
            # posting in a loop would fill the table.
            return too_many_requests(request)
        record = services.consent_record(
            choice=choice, consent_id=state.consent_id if state.consent_valid else None
        )
        state.choose(consent_id=record.consent_id, choice=choice, digest=record.cookies_digest)
        return _back(request)


class DismissView(_SameOriginPost):
    """POST ``key``: don't show that popup again, remembered only with consent."""

    http_method_names = ["post"]

    def post(self, request):
        request.consent.remember_dismissed(request.POST.get("key", "")[:16])
        return _back(request)
