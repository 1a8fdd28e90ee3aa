"""A member's journey over HTTP against running production processes (called by scripts/prod-smoke).

Usage: prod_smoke_journey.py BASE_URL MAIL_DIR. Waits for the site to be ready, checks a static
file is served (WhiteNoise), then registers through the API, confirms the address with the link
the task worker mailed, logs in, lists the services, places an order and reads it back, and waits
for the worker to mail the "order placed" email. Exits non-zero, saying which step failed.
Standard library only: it plays an outside client, not Django.
"""

import email
import json
import re
import secrets
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

# The processes run with BEHIND_TLS_PROXY=1, as behind deploy/nginx/kirakira.conf: this header,
# which the proxy would set, keeps SECURE_SSL_REDIRECT from redirecting a plain-HTTP client.
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "Accept-Language": "en"}
READY_SECONDS = 40
MAIL_SECONDS = 20


class JourneyError(Exception):
    pass


def request(base, method, path, body=None, token=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    all_headers = {**PROXY_HEADERS, **(headers or {})}
    if data is not None:
        all_headers["Content-Type"] = "application/json"
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(base + path, data=data, method=method, headers=all_headers)  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=15) as response:  # noqa: S310 - our own local server
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def expect(step, status, content, wanted):
    if status != wanted:
        raise JourneyError(f"{step}: HTTP {status}, expected {wanted}: {content[:500]!r}")
    return json.loads(content) if content else None


def wait_ready(base):
    """/readyz when the site has it; until then /healthz, or the home page."""
    deadline = time.monotonic() + READY_SECONDS
    last = None
    while time.monotonic() < deadline:
        try:
            for path in ("/readyz", "/healthz", "/"):
                status, content = request(base, "GET", path)
                if status != 404 or path == "/":
                    last = (path, status, content[:300])
                    if status == 200:
                        return path
                    break
        except OSError as error:  # not listening yet
            last = ("(connect)", error)
        time.sleep(0.5)
    raise JourneyError(f"not ready within {READY_SECONDS} s; last answer: {last!r}")


def check_static(base):
    status, page = request(base, "GET", "/en/")
    if status != 200:
        status, page = request(base, "GET", "/")
    found = re.search(rb'(?:href|src)="(/static/[^"]+)"', page)
    if not found:
        raise JourneyError(f"home page (HTTP {status}) links no static file")
    path = found.group(1).decode()
    status, _content = request(base, "GET", path)
    if status != 200:
        raise JourneyError(f"static file {path}: HTTP {status} (collectstatic and WhiteNoise)")


def mails(mail_dir):
    """Every message the file mail backend wrote (one file per connection, messages separated by
    a line of dashes)."""
    found = []
    for path in sorted(Path(mail_dir).glob("*.log")):
        for chunk in re.split(r"\n-{79}\n", path.read_text(errors="replace")):
            if chunk.strip():
                found.append(email.message_from_string(chunk.strip() + "\n"))
    return found


def body_text(message):
    parts = message.walk() if message.is_multipart() else [message]
    texts = []
    for part in parts:
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True) or b""
            texts.append(payload.decode(part.get_content_charset() or "utf-8", errors="replace"))
    return "\n".join(texts)


def wait_mail(mail_dir, to, pattern, what, subject=""):
    deadline = time.monotonic() + MAIL_SECONDS
    while time.monotonic() < deadline:
        for message in mails(mail_dir):
            if to in (message.get("To") or "") and subject in str(message.get("Subject") or ""):
                match = re.search(pattern, body_text(message))
                if match:
                    return match
        time.sleep(0.5)
    raise JourneyError(f"the worker sent no {what} email within {MAIL_SECONDS} s")


def journey(base, mail_dir):
    t0 = time.monotonic()
    print(f"ready ({wait_ready(base)} answered 200) after {time.monotonic() - t0:.1f} s")
    check_static(base)
    print("static files served")

    suffix = secrets.token_hex(4)
    login_id = f"smoke{suffix}"
    address = f"smoke-{suffix}@kirakira.example"
    password = f"Smoke-{secrets.token_urlsafe(12)}-42"
    status, content = request(
        base,
        "POST",
        "/api/v1/auth/register",
        {
            "login_id": login_id,
            "name": "Smoke Test",
            "email": address,
            "password": password,
            # Registration records agreement to the terms in force; orders need it.
            "accept_terms": True,
        },
    )
    expect("register", status, content, 201)
    print("registered")

    link = wait_mail(mail_dir, address, r"/accounts/confirm/([^/\s]+)/([^/\s]+)/", "confirmation")
    status, content = request(
        base, "POST", "/api/v1/auth/confirm-email", {"uid": link.group(1), "token": link.group(2)}
    )
    expect("confirm email", status, content, 200)
    print("email confirmed with the mailed link")

    status, content = request(
        base, "POST", "/api/v1/auth/token", {"login_id": login_id, "password": password}
    )
    token = expect("log in", status, content, 200)["token"]

    status, content = request(base, "GET", "/api/v1/services")
    services = [s for s in expect("services", status, content, 200) if s["platforms"]]
    if not services:
        raise JourneyError("no service on sale with a platform")
    service = services[0]
    order = {
        "service": service["id"],
        "sns_platform": service["platforms"][0]["code"],
        "sns_account_id": "kirakira.smoke",
        "photo_links": [f"https://example.com/photo-{i}.jpg" for i in range(service["photo_link_count"])],
        "note": "",
        "phone": "090-1234-5678",
    }
    status, content = request(
        base, "POST", "/api/v1/orders", order, token=token, headers={"Idempotency-Key": str(uuid.uuid4())}
    )
    placed = expect("place an order", status, content, 201)
    status, content = request(base, "GET", f"/api/v1/orders/{placed['id']}", token=token)
    got = expect("get the order", status, content, 200)
    if got["id"] != placed["id"]:
        raise JourneyError("the order read back is another one")
    print(f"order placed and read back ({got.get('status')})")

    status, content = request(base, "GET", "/api/v1/orders", token=token)
    listing = expect("list orders", status, content, 200)
    ids = [o["id"] for o in (listing["results"] if isinstance(listing, dict) else listing)]
    if placed["id"] not in ids:
        raise JourneyError("the new order is missing from the member's orders")

    # The member registered in English (Accept-Language), so the subject is the English one.
    wait_mail(mail_dir, address, r".", "order placed", subject="we have received your order")
    print(f"journey done in {time.monotonic() - t0:.1f} s")
    print(f"ORDER_ID={placed['id']}")


def main():
    base, mail_dir = sys.argv[1].rstrip("/"), sys.argv[2]
    try:
        journey(base, mail_dir)
    except JourneyError as error:
        print(f"prod-smoke: FAILED: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
