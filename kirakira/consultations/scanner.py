"""Virus scanning of uploads with a ClamAV daemon (``clamd``), when one is configured.

Hand-written because the Python clients on PyPI (``clamd``, ``pyclamd``) have been
unmaintained for years; what is needed is one command of clamd's documented protocol:
``zINSTREAM``, the file in length-prefixed chunks, then a zero-length chunk, and one reply
line ("stream: OK" or "stream: <signature> FOUND").
"""

import socket
import struct
from dataclasses import dataclass

from django.conf import settings

CHUNK = 64 * 1024


class ScannerUnavailable(Exception):
    """The configured scanner could not be reached or answered nonsense."""


@dataclass(frozen=True)
class Verdict:
    clean: bool
    signature: str = ""


def is_configured() -> bool:
    return bool(settings.CLAMAV_SOCKET)


def _connect() -> socket.socket:
    address = settings.CLAMAV_SOCKET
    try:
        if address.startswith("tcp://"):
            host, _, port = address.removeprefix("tcp://").rpartition(":")
            return socket.create_connection((host, int(port)), timeout=settings.CLAMAV_TIMEOUT)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(settings.CLAMAV_TIMEOUT)
        sock.connect(address)
        return sock
    except (OSError, ValueError) as exc:
        raise ScannerUnavailable(f"cannot reach the virus scanner: {exc.__class__.__name__}") from None


def scan(data: bytes) -> Verdict:
    with _connect() as sock:
        try:
            sock.sendall(b"zINSTREAM\0")
            for start in range(0, len(data), CHUNK):
                chunk = data[start : start + CHUNK]
                sock.sendall(struct.pack("!L", len(chunk)) + chunk)
            sock.sendall(struct.pack("!L", 0))
            reply = b""
            while not reply.endswith(b"\0"):
                part = sock.recv(4096)
                if not part:
                    break
                reply += part
        except OSError as exc:
            raise ScannerUnavailable(f"the virus scanner did not answer: {exc.__class__.__name__}") from None
    answer = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
    if answer.endswith("OK"):
        return Verdict(clean=True)
    if answer.endswith("FOUND"):
        return Verdict(clean=False, signature=answer.removeprefix("stream:").removesuffix("FOUND").strip())
    raise ScannerUnavailable("the virus scanner gave an unexpected answer")
