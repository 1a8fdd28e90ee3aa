"""Asks a member to agree to the terms of service in force before they go on ordering.

Only the pages where a member starts new business are held (my page, where login lands; the
order list; the order form): the pages of existing orders, cancelling and refunds, consultations,
the privacy pages and withdrawing stay open, since a member who does not agree keeps those rights.
Placing an order is refused by the service itself (``orders.services.order_place``), which
covers the API too.
"""

from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse

from . import selectors

HELD = frozenset({"accounts:mypage", "orders:list", "orders:new"})
SESSION_KEY = "terms_agreed"


class TermsAgreementMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD") and self._held(request):
            return HttpResponseRedirect(
                f"{reverse('legal:terms_agree')}?{urlencode({'next': request.get_full_path()})}"
            )
        return self.get_response(request)

    def _held(self, request) -> bool:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_staff:
            return False
        try:
            if resolve(request.path_info).view_name not in HELD:
                return False
        except Resolver404:
            return False
        number = selectors.in_force_number()
        # The session remembers the version agreed to, so each page costs no query.
        if not number or request.session.get(SESSION_KEY) == number:
            return False
        if selectors.has_agreed(user, number):
            request.session[SESSION_KEY] = number
            return False
        return True
