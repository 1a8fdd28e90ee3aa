"""The client address that the usage log, the lockout and the throttle believe."""

import pytest
from django.test import RequestFactory

from kirakira.common.client_ip import client_ip

CLIENT = "203.0.113.7"
OTHER_CLIENT = "198.51.100.23"
PROXY = "10.0.0.2"
PLACEHOLDER = "0.0.0.0"  # noqa: S104 - what client_ip() answers when it has no address


def _request(remote_addr=CLIENT, forwarded_for=None):
    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().get("/", **extra)


def test_remote_addr_is_the_client_address(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(_request(CLIENT)) == CLIENT


def test_spoofed_forwarded_for_is_ignored_without_trusted_proxies(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(_request(CLIENT, forwarded_for=OTHER_CLIENT)) == CLIENT


def test_forwarded_for_is_ignored_when_the_connection_is_not_from_a_trusted_proxy(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert client_ip(_request(CLIENT, forwarded_for=OTHER_CLIENT)) == CLIENT


def test_forwarded_for_from_a_trusted_proxy_address_gives_the_client(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert client_ip(_request(PROXY, forwarded_for=CLIENT)) == CLIENT


def test_a_trusted_proxy_can_be_given_as_a_network(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(_request("10.20.30.40", forwarded_for=CLIENT)) == CLIENT


def test_an_address_outside_the_trusted_network_is_not_a_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(_request("11.0.0.1", forwarded_for=CLIENT)) == "11.0.0.1"


def test_a_network_given_with_host_bits_set_is_accepted(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.5/24"]
    assert client_ip(_request("10.0.0.77", forwarded_for=CLIENT)) == CLIENT


def test_with_a_chain_of_proxies_the_right_most_untrusted_entry_is_the_client(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = _request(PROXY, forwarded_for=f"{OTHER_CLIENT}, {CLIENT}, 10.0.0.9, 10.0.0.3")
    assert client_ip(request) == CLIENT


def test_entries_a_client_prepends_to_the_chain_are_not_believed(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    # The client sent "X-Forwarded-For: 1.2.3.4"; the trusted proxy appended the real address.
    request = _request(PROXY, forwarded_for=f"1.2.3.4, {CLIENT}")
    assert client_ip(request) == CLIENT


def test_a_client_claiming_to_be_a_trusted_proxy_does_not_hide_behind_it(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    request = _request(PROXY, forwarded_for=f"{OTHER_CLIENT}, {CLIENT}, {PROXY}")
    assert client_ip(request) == CLIENT


def test_several_trusted_proxies_of_different_kinds(settings):
    settings.TRUSTED_PROXIES = ["192.168.1.1", "10.0.0.0/8"]
    request = _request("192.168.1.1", forwarded_for=f"{CLIENT}, 10.1.2.3")
    assert client_ip(request) == CLIENT


def test_when_every_forwarded_entry_is_a_trusted_proxy_the_remote_address_is_used(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(_request(PROXY, forwarded_for="10.0.0.7, 10.0.0.8")) == PROXY


def test_a_trusted_proxy_without_forwarded_for_gives_the_proxy_address(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert client_ip(_request(PROXY)) == PROXY


@pytest.mark.parametrize(
    "forwarded_for",
    [
        "",
        " ",
        ",",
        "garbage",
        "unknown",
        "<script>alert(1)</script>",
        f"{CLIENT}:8080",
        "999.1.1.1",
        "203.0.113",
        f"{CLIENT}, garbage",
        "for=203.0.113.7",
        "\x00",
    ],
)
def test_a_garbage_right_most_entry_falls_back_to_the_remote_address(settings, forwarded_for):
    settings.TRUSTED_PROXIES = [PROXY]
    assert client_ip(_request(PROXY, forwarded_for=forwarded_for)) == PROXY


def test_garbage_to_the_left_of_the_client_entry_is_harmless(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert client_ip(_request(PROXY, forwarded_for=f"garbage, ;;, {CLIENT}")) == CLIENT


def test_whitespace_around_forwarded_entries_is_ignored(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert client_ip(_request(PROXY, forwarded_for=f"  {CLIENT}  ,\t{PROXY} ")) == CLIENT


@pytest.mark.parametrize("remote_addr", ["", "garbage", "999.0.0.1", "unix:/run/socket"])
def test_a_request_without_a_usable_remote_address_gets_a_placeholder(settings, remote_addr):
    settings.TRUSTED_PROXIES = [PROXY]
    request = _request(remote_addr, forwarded_for=CLIENT)
    assert client_ip(request) == PLACEHOLDER


def test_a_request_with_no_remote_address_at_all_gets_a_placeholder(settings):
    settings.TRUSTED_PROXIES = []
    request = RequestFactory().get("/")
    del request.META["REMOTE_ADDR"]
    assert client_ip(request) == PLACEHOLDER


def test_an_ipv6_remote_address(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(_request("2001:db8::1")) == "2001:db8::1"


def test_an_ipv6_address_is_returned_in_canonical_form(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(_request("2001:0DB8:0000:0000:0000:0000:0000:0001")) == "2001:db8::1"


def test_an_ipv6_trusted_proxy_network_forwarding_an_ipv6_client(settings):
    settings.TRUSTED_PROXIES = ["fd00::/8"]
    request = _request("fd00::10", forwarded_for="2001:db8::42, fd00::11")
    assert client_ip(request) == "2001:db8::42"


def test_an_ipv6_proxy_forwarding_an_ipv4_client(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "fd00::/8"]
    request = _request("fd00::10", forwarded_for=f"{CLIENT}, 10.0.0.3")
    assert client_ip(request) == CLIENT


def test_an_ipv4_network_does_not_trust_an_ipv6_address(settings):
    settings.TRUSTED_PROXIES = ["0.0.0.0/0"]
    assert client_ip(_request("2001:db8::1", forwarded_for=CLIENT)) == "2001:db8::1"


def test_changing_trusted_proxies_takes_effect_at_once(settings):
    request = _request(PROXY, forwarded_for=CLIENT)
    settings.TRUSTED_PROXIES = [PROXY]
    assert client_ip(request) == CLIENT
    settings.TRUSTED_PROXIES = []
    assert client_ip(request) == PROXY
