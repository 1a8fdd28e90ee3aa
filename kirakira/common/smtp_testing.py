"""A real SMTP server for tests (aiosmtpd on a free loopback port), so that mail is proven to
travel over an SMTP conversation and not only through Django's in-memory outbox."""

import email
import email.policy
import logging
import socket
from contextlib import contextmanager

from aiosmtpd.controller import Controller

logging.getLogger("mail.log").setLevel(logging.WARNING)


class _Collector:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_server(handler=None):
    """Yield ``(port, handler)``; the default handler's ``messages`` holds every message
    received. Pass an aiosmtpd handler of your own to answer otherwise (e.g. refuse a recipient)."""
    handler = handler if handler is not None else _Collector()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()
