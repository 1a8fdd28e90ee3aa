"""Virus scanning of uploads with ClamAV (issue 5), against a fake ``clamd`` started by each
test that speaks the daemon's real ``zINSTREAM`` protocol over a unix socket (once over TCP):
a clean file is stored as scanned, an infected one is refused, an unreachable scanner refuses
everything (fail closed), and without a scanner the pages say so."""

import socket
import socketserver
import struct
import threading
import time
from contextlib import contextmanager

import pytest
from django.urls import reverse

from kirakira.common.roles import Role
from kirakira.common.testing import MemberFactory, StaffFactory
from kirakira.consultations import scanner, services
from kirakira.consultations.models import Attachment, Consultation, Message, ScanResult
from kirakira.consultations.testing import PDF, PNG, open_for_member, upload

pytestmark = pytest.mark.django_db

# The pages follow the account language of whoever is logged in, else the browser's.
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
# The EICAR anti-virus test file, in two halves so that this source file is not itself flagged.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
INFECTED_MESSAGE = "“invoice.pdf” contains a virus and was refused."
UNAVAILABLE_MESSAGE = "Files cannot be checked for viruses right now. Please try again later, or send your message without them."
PAGE_NOTICE = "Attachments are checked for size and type; no virus scanner is in use."
ADMIN_NOTICE = "No virus scanner is configured: attachments are checked for size and type only."


def _read_exactly(rfile, size: int) -> bytes:
    data = rfile.read(size)
    if len(data) != size:
        raise ConnectionError(f"short read: {len(data)} of {size}")
    return data


class FakeClamd:
    """What the fake daemon saw: one entry per connection."""

    def __init__(self, reply_mode: str = "verdict"):
        self.reply_mode = reply_mode  # "verdict", "garbage", "silent", "hang up"
        self.commands: list[bytes] = []
        self.streams: list[bytes] = []
        self.chunk_sizes: list[list[int]] = []
        self.errors: list[str] = []

    def handler(self):
        daemon = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                try:
                    command = _read_exactly(self.rfile, len(b"zINSTREAM\0"))
                    daemon.commands.append(command)
                    if command != b"zINSTREAM\0":
                        self.wfile.write(b"UNKNOWN COMMAND\0")
                        return
                    received, sizes = bytearray(), []
                    while True:
                        (length,) = struct.unpack("!L", _read_exactly(self.rfile, 4))
                        if length == 0:
                            break
                        sizes.append(length)
                        received += _read_exactly(self.rfile, length)
                    daemon.streams.append(bytes(received))
                    daemon.chunk_sizes.append(sizes)
                except Exception as exc:  # noqa: BLE001 - reported to the test, not swallowed
                    daemon.errors.append(repr(exc))
                    return
                if daemon.reply_mode == "hang up":
                    return
                if daemon.reply_mode == "silent":
                    time.sleep(3)
                    return
                if daemon.reply_mode == "garbage":
                    self.wfile.write(b"INSTREAM size limit exceeded. ERROR\0")
                elif EICAR in received:
                    self.wfile.write(b"stream: Eicar-Test-Signature FOUND\0")
                else:
                    self.wfile.write(b"stream: OK\0")

        return Handler


@contextmanager
def _serving(server):
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class _TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def clamd(tmp_path, settings):
    """A fake clamd on a unix socket in ``tmp_path``; ``settings.CLAMAV_SOCKET`` points at it."""
    path = tmp_path / "clamd.sock"
    daemon = FakeClamd()
    server = _UnixServer(str(path), daemon.handler())
    settings.CLAMAV_SOCKET = str(path)
    settings.CLAMAV_TIMEOUT = 5.0
    with _serving(server):
        yield daemon
    assert daemon.errors == []


@pytest.fixture
def member(client):
    member = MemberFactory(language="en")
    client.force_login(member)
    return member


def nothing_stored():
    return (Consultation.objects.count(), Message.objects.count(), Attachment.objects.count()) == (0, 0, 0)


def post_new(client, files):
    data = {"category": "question", "subject": "件名", "body": "本文です", "attachments": files}
    return client.post(reverse("consultations:new"), data, **EN)


def infected_pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj<< /Length 68 >>stream\n" + EICAR + b"\nendstream endobj\ntrailer<<>>\n%%EOF\n"


# --- with a scanner -------------------------------------------------------------------------------


def test_a_clean_upload_is_scanned_then_stored_as_clean(client, member, clamd):
    response = post_new(client, [upload("receipt.pdf", PDF, "application/pdf")])

    assert response.status_code == 302, response.content.decode()[:3000]
    attachment = Attachment.objects.get()
    assert attachment.scan == ScanResult.CLEAN
    assert attachment.content == PDF
    assert clamd.commands == [b"zINSTREAM\0"]
    assert clamd.streams == [PDF]


def test_an_infected_upload_is_refused_and_nothing_is_stored(client, member, clamd):
    data = infected_pdf()

    response = post_new(client, [upload("invoice.pdf", data, "application/pdf")])

    assert response.status_code == 400
    assert INFECTED_MESSAGE in response.content.decode()
    assert clamd.streams == [data]  # it did reach the scanner, and was judged by it
    assert nothing_stored()


def test_an_infected_file_among_clean_ones_stores_nothing(client, member, clamd):
    response = post_new(
        client,
        [upload("a.png"), upload("invoice.pdf", infected_pdf(), "application/pdf"), upload("b.png")],
    )

    assert response.status_code == 400
    assert INFECTED_MESSAGE in response.content.decode()
    assert nothing_stored()


def test_every_file_is_scanned(client, member, clamd):
    files = [PNG, PDF, PNG + b"\x00extra"]
    names = ["a.png", "b.pdf", "c.png"]

    response = post_new(client, [upload(n, f) for n, f in zip(names, files, strict=True)])

    assert response.status_code == 302
    assert sorted(clamd.streams) == sorted(files)
    assert set(Attachment.objects.values_list("scan", flat=True)) == {ScanResult.CLEAN}


def test_a_file_larger_than_one_chunk_arrives_whole(client, member, clamd):
    size = 3 * scanner.CHUNK + 12345  # several 64 KiB chunks and a partial one
    data = PNG[:33] + (bytes(range(256)) * (size // 256 + 1))[: size - 33]
    assert len(data) == size

    response = post_new(client, [upload("large.png", data)])

    assert response.status_code == 302, response.content.decode()[:3000]
    assert clamd.streams == [data]
    (sizes,) = clamd.chunk_sizes
    assert len(sizes) > 1
    assert max(sizes) <= 64 * 1024
    assert sum(sizes) == size
    assert Attachment.objects.get().scan == ScanResult.CLEAN


def test_an_eicar_string_split_across_chunks_is_still_found(client, member, clamd):
    # The string straddles the first chunk boundary: the daemon judges the reassembled stream.
    start = scanner.CHUNK - 20
    body = b"%PDF-1.4\n" + b"0" * (start - 9) + EICAR + b"\n%%EOF\n"
    assert body.index(EICAR) < scanner.CHUNK < body.index(EICAR) + len(EICAR)

    response = post_new(client, [upload("invoice.pdf", body, "application/pdf")])

    assert response.status_code == 400
    assert INFECTED_MESSAGE in response.content.decode()
    assert nothing_stored()


def test_a_staff_reply_with_an_infected_file_is_refused(client, clamd):
    consultation = open_for_member()
    staff = StaffFactory(roles=[Role.CUSTOMER_SERVICE], language="en")
    client.force_login(staff)
    before = Message.objects.count()

    response = client.post(
        reverse("admin:consultations_consultation_change", args=[consultation.pk]),
        {
            "action": "reply",
            "body": "Here is the file",
            "attachments": [upload("invoice.pdf", infected_pdf())],
        },
        **EN,
    )

    assert response.status_code == 200  # the page again, with the error
    assert INFECTED_MESSAGE in response.content.decode()
    assert Message.objects.count() == before
    assert Attachment.objects.count() == 0


def test_the_scanner_notice_is_absent_when_a_scanner_is_configured(client, member, clamd):
    assert PAGE_NOTICE not in client.get(reverse("consultations:new"), **EN).content.decode()
    client.force_login(StaffFactory(roles=[Role.CUSTOMER_SERVICE], language="en"))
    page = client.get(reverse("admin:consultations_consultation_changelist"), **EN)
    assert page.status_code == 200
    assert ADMIN_NOTICE not in page.content.decode()


def test_a_message_without_files_does_not_call_the_scanner(client, member, clamd):
    response = post_new(client, [])

    assert response.status_code == 302
    assert clamd.commands == []


# --- the scanner over TCP -------------------------------------------------------------------------


def test_a_scanner_reached_over_tcp(client, member, settings):
    daemon = FakeClamd()
    server = _TCPServer(("127.0.0.1", 0), daemon.handler())
    settings.CLAMAV_SOCKET = f"tcp://127.0.0.1:{server.server_address[1]}"
    with _serving(server):
        clean = post_new(client, [upload("ok.png")])
        infected = post_new(client, [upload("invoice.pdf", infected_pdf(), "application/pdf")])

    assert daemon.errors == []
    assert clean.status_code == 302
    assert infected.status_code == 400
    assert INFECTED_MESSAGE in infected.content.decode()
    assert daemon.streams == [PNG, infected_pdf()]
    assert list(Attachment.objects.values_list("scan", flat=True)) == [ScanResult.CLEAN]


# --- fail closed ----------------------------------------------------------------------------------


def _refused(client):
    response = post_new(client, [upload("ok.png")])
    assert response.status_code == 400
    assert UNAVAILABLE_MESSAGE in response.content.decode()
    assert nothing_stored()


def test_a_configured_socket_that_does_not_exist_refuses_the_upload(client, member, settings, tmp_path):
    settings.CLAMAV_SOCKET = str(tmp_path / "no-such-clamd.sock")
    _refused(client)


def test_a_configured_tcp_port_with_nobody_listening_refuses_the_upload(client, member, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CLAMAV_SOCKET = f"tcp://127.0.0.1:{port}"
    _refused(client)


def test_a_malformed_scanner_address_refuses_the_upload(client, member, settings):
    settings.CLAMAV_SOCKET = "tcp://127.0.0.1:not-a-port"
    _refused(client)


@pytest.mark.parametrize("mode", ["garbage", "hang up"])
def test_a_scanner_that_answers_nonsense_or_nothing_refuses_the_upload(client, member, clamd, mode):
    clamd.reply_mode = mode
    _refused(client)
    assert clamd.streams == [PNG]


def test_a_scanner_that_does_not_answer_in_time_refuses_the_upload(client, member, clamd, settings):
    clamd.reply_mode = "silent"
    settings.CLAMAV_TIMEOUT = 0.3
    started = time.monotonic()
    _refused(client)
    assert time.monotonic() - started < 3


def test_a_message_without_files_goes_through_while_the_scanner_is_down(client, member, settings, tmp_path):
    settings.CLAMAV_SOCKET = str(tmp_path / "no-such-clamd.sock")

    response = post_new(client, [])

    assert response.status_code == 302
    assert Consultation.objects.count() == 1


# --- without a scanner ----------------------------------------------------------------------------


def test_without_a_scanner_files_are_stored_as_not_scanned(client, member, settings):
    settings.CLAMAV_SOCKET = ""

    response = post_new(client, [upload("ok.png"), upload("receipt.pdf", PDF, "application/pdf")])

    assert response.status_code == 302
    assert list(Attachment.objects.values_list("scan", flat=True)) == [ScanResult.NOT_SCANNED] * 2


def test_without_a_scanner_the_consultation_page_says_so(client, member, settings):
    settings.CLAMAV_SOCKET = ""

    page = client.get(reverse("consultations:new"), **EN)

    assert page.status_code == 200
    assert PAGE_NOTICE in page.content.decode()


def test_without_a_scanner_the_visitors_page_says_so(client, settings):
    settings.CLAMAV_SOCKET = ""

    page = client.get(reverse("consultations:new"), **EN)

    assert page.status_code == 200
    assert PAGE_NOTICE in page.content.decode()


def test_without_a_scanner_the_back_office_list_says_so(client, settings):
    settings.CLAMAV_SOCKET = ""
    open_for_member()
    client.force_login(StaffFactory(roles=[Role.CUSTOMER_SERVICE], language="en"))

    page = client.get(reverse("admin:consultations_consultation_changelist"), **EN)

    assert page.status_code == 200
    assert ADMIN_NOTICE in page.content.decode()


def test_without_a_scanner_the_back_office_consultation_says_so(client, settings):
    settings.CLAMAV_SOCKET = ""
    consultation = open_for_member()
    client.force_login(StaffFactory(roles=[Role.CUSTOMER_SERVICE], language="en"))

    page = client.get(reverse("admin:consultations_consultation_change", args=[consultation.pk]), **EN)

    assert page.status_code == 200
    assert ADMIN_NOTICE in page.content.decode()


def test_the_service_without_a_scanner_never_connects(settings, monkeypatch):
    settings.CLAMAV_SOCKET = ""

    def refuse(*args, **kwargs):
        raise AssertionError("no scanner is configured: nothing may connect")

    monkeypatch.setattr(scanner, "_connect", refuse)
    consultation = open_for_member(files=[upload()])
    services.requester_reply(
        consultation_id=consultation.pk, body="more", files=[upload()], member=consultation.member
    )

    assert Attachment.objects.filter(scan=ScanResult.NOT_SCANNED).count() == 2
