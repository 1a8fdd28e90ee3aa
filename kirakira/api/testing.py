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
