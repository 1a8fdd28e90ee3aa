"""Helpers for tests of the API."""


def error_body(response, status_code):
    """Check the API's one error shape, ``{"message": str, "errors": {field: [str]}}``, and
    return the parsed body."""
    assert response.status_code == status_code, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"message", "errors"}
    assert isinstance(body["message"], str)
    assert body["message"].strip()
    assert isinstance(body["errors"], dict)
    for field, messages in body["errors"].items():
        assert isinstance(field, str)
        assert isinstance(messages, list)
        assert messages
        assert all(isinstance(message, str) and message.strip() for message in messages)
    return body


def api_token(member, password=None, user_agent="curl/8.5.0") -> str:
    """A bearer token for ``member``, through the real login endpoint."""
    import json

    from django.test import Client

    from kirakira.common.testing import PASSWORD

    response = Client(HTTP_USER_AGENT=user_agent).post(
        "/api/v1/auth/token",
        json.dumps({"login_id": member.login_id, "password": password or PASSWORD}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


CHUNKED_JSON = [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")]


def asgi_post(path: str, chunks: list[bytes], headers: list[tuple[bytes, bytes]] = CHUNKED_JSON) -> tuple[int, dict]:
    """A POST through Django's ASGI handler whose body comes in chunks with no Content-Length,
    as a chunked HTTP/1.1 request or an HTTP/2 one reaches the application."""
    import asyncio
    import json

    from asgiref.sync import sync_to_async
    from django.core.handlers.asgi import ASGIHandler
    from django.db import connections

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"accept-language", b"en"), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }
    incoming = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    sent = []

    async def receive():
        if incoming:
            return incoming.pop(0)
        await asyncio.Event().wait()  # the client stays connected until the answer is sent

    async def send(message):
        sent.append(message)

    async def request():
        await ASGIHandler()(scope, receive, send)
        # The view ran in asgiref's thread for sync code, whose database connection would
        # otherwise outlive the test (and keep PostgreSQL from dropping the test database).
        await sync_to_async(connections.close_all)()

    asyncio.run(request())
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(content)
