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
