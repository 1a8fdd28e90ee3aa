"""A member's client of the consultations API for tests: JSON and multipart calls with a real
token, and the schema the server serves, checked the way a fuzzer checks it."""

import json

import requests
import schemathesis
from django.test import Client
from knox.models import AuthToken

LIST_URL = "/api/v1/consultations"
VALID = {"category": "question", "subject": "納期について", "body": "いつ届きますか？"}


def detail_url(consultation_id) -> str:
    return f"{LIST_URL}/{consultation_id}"


def messages_url(consultation_id) -> str:
    return f"{LIST_URL}/{consultation_id}/messages"


def close_url(consultation_id) -> str:
    return f"{LIST_URL}/{consultation_id}/close"


def reopen_url(consultation_id) -> str:
    return f"{LIST_URL}/{consultation_id}/reopen"


def attachment_url(consultation_id, attachment_id) -> str:
    return f"{LIST_URL}/{consultation_id}/attachments/{attachment_id}"


class MemberApi:
    def __init__(self, client: Client, member, language: str = "en"):
        _instance, token = AuthToken.objects.create(member)
        self.client = client
        self.member = member
        self.headers = {"Authorization": f"Bearer {token}", "Accept-Language": language}

    def get(self, url, params=None, **headers):
        return self.client.get(url, params or {}, headers={**self.headers, **headers})

    def post(self, url, data=None):
        """JSON, or no body at all with ``data`` None."""
        if data is None:
            return self.client.post(url, content_type="application/json", headers=self.headers)
        body = data if isinstance(data, str) else json.dumps(data)
        return self.client.post(url, body, content_type="application/json", headers=self.headers)

    def upload(self, url, data=None, files=()):
        """``multipart/form-data``: the fields of ``data``, and each of ``files`` as an ``attachments`` part."""
        payload = {key: value for key, value in (data or {}).items() if value is not None}
        if files:
            payload["attachments"] = list(files)
        return self.client.post(url, payload, headers=self.headers)


_served = {}


def served_schema(client: Client) -> dict:
    """The schema as ``/api/schema/`` serves it (built once per test run)."""
    if "schema" not in _served:
        response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        assert response.status_code == 200, response.content
        _served["schema"] = json.loads(response.content)
        _served["loaded"] = schemathesis.openapi.from_dict(_served["schema"])
    return _served["schema"]


def assert_documented(schema: dict, path: str, method: str, response) -> None:
    """The answer's status is documented for the operation, and its body and content type are
    what the schema says for that status (schemathesis's own response checks)."""
    operation = schema["paths"][path][method]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method.upper()} {path} answered {status}, undocumented"
    answer = schemathesis.Response(
        status_code=response.status_code,
        headers={name: [value] for name, value in response.items()},
        content=response.content,
        request=requests.Request(method.upper(), f"http://testserver{path}").prepare(),
        elapsed=0.0,
        verify=True,
    )
    loaded = _served["loaded"] if _served.get("schema") is schema else schemathesis.openapi.from_dict(schema)
    loaded[path][method.upper()].validate_response(answer)
