"""The client's address, as the usage log and the lockout see it.

``REMOTE_ADDR`` is the only address a client cannot forge. ``X-Forwarded-For`` is believed
only when the connection came from a proxy listed in ``TRUSTED_PROXIES``; then the address is
the right-most entry that is not itself a trusted proxy (entries to its left are whatever the
client chose to send).
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


def _is_trusted(address, networks) -> bool:
    return any(address in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    remote = _parse(request.META.get("REMOTE_ADDR", ""))
    if remote is None:
        return "0.0.0.0"  # noqa: S104 - a placeholder for a request with no usable address
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
