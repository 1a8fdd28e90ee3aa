"""The client's address, as the usage log and the lockout see it.

``REMOTE_ADDR`` is the only address a client cannot forge. ``X-Forwarded-For`` is believed
only when the connection came from a proxy listed in ``TRUSTED_PROXIES``; then the address is
the right-most entry that is not itself a trusted proxy (entries to its left are whatever the
client chose to send).

Rate limits do not key on that address itself but on ``rate_limit_key``: an IPv6 client is
normally given a whole /64 network (often more), and picks a new address in it whenever it
likes (privacy extensions change it daily on their own), so keying on the full address would
give one client 2**64 separate counters. IPv4 addresses, and IPv4 addresses written as IPv6
(``::ffff:192.0.2.1``), are keyed as themselves. Records (the members' usage log, the
permission-change log) keep the exact address.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


# What ``client_ip`` answers for a request with no usable address.
UNKNOWN_ADDRESS = "0.0.0.0"  # noqa: S104 - a placeholder, never bound to

# The IPv6 network one client is assumed to control: the smallest an ISP assigns to a site.
IPV6_CLIENT_PREFIX = 64


def _is_trusted(address, networks) -> bool:
    return any(address in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    remote = _parse(request.META.get("REMOTE_ADDR", ""))
    if remote is None:
        return UNKNOWN_ADDRESS
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if not networks or not _is_trusted(remote, networks):
        return str(remote)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for entry in reversed(forwarded.split(",")):
        address = _parse(entry)
        if address is None:
            break
        if not _is_trusted(address, networks):
            return str(address)
    return str(remote)


def rate_limit_key(ip: str | None) -> str | None:
    """What a limit on client addresses counts under: an IPv4 address as it is, an IPv6 one as
    its /64 network, written as the network's first address (``2001:db8:1:2::``) so that it fits
    wherever an address does (django-axes keeps it in an address column). Anything that is not
    an address (None, "") is returned unchanged."""
    address = _parse(ip) if ip else None
    if address is None:
        return ip
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        network = ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False)
        return str(network.network_address)
    return str(address)


def client_rate_limit_key(request: HttpRequest) -> str:
    """``AXES_CLIENT_IP_CALLABLE`` and every per-address limit: the client's ``rate_limit_key``."""
    return rate_limit_key(client_ip(request))
