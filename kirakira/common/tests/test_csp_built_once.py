"""The Content-Security-Policy header is built once per process for answers that change nothing
of it (kirakira/common/csp.py), and is exactly django-csp's; a view with its own policy, a
nonce or an exemption still gets django-csp's handling."""

import pytest
from csp.decorators import csp_exempt, csp_update
from csp.utils import build_policy
from django.http import HttpResponse
from django.test import RequestFactory

from kirakira.common.csp import CSPMiddleware


def _answer(view, path="/"):
    request = RequestFactory().get(path)
    middleware = CSPMiddleware(view)
    middleware.process_request(request)
    return request, middleware(request)


def _plain(request):
    return HttpResponse("ok")


@csp_update({"img-src": ["https://photos.example"]})
def _own_policy(request):
    return HttpResponse("ok")


@csp_exempt()
def _exempt(request):
    return HttpResponse("ok")


def _with_nonce(request):
    return HttpResponse(f"nonce {request.csp_nonce}")


def test_the_header_is_django_csps_and_follows_a_change_of_the_settings(settings):
    _request, response = _answer(_plain)
    assert response["Content-Security-Policy"] == build_policy()
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    _request, response = _answer(_plain)
    assert response["Content-Security-Policy"] == "default-src 'none'"


def test_a_views_own_policy_an_exemption_and_a_nonce_are_django_csps_to_handle():
    _request, response = _answer(_own_policy)
    assert "https://photos.example" in response["Content-Security-Policy"]
    _request, response = _answer(_exempt)
    assert "Content-Security-Policy" not in response
    _request, response = _answer(_with_nonce)
    nonce = response.content.decode().split()[-1]
    assert response["Content-Security-Policy"] == build_policy(nonce=nonce)


def test_a_nonce_asked_for_after_the_header_is_written_is_an_error():
    from csp.exceptions import CSPNonceError

    request, _response = _answer(_plain)
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)
