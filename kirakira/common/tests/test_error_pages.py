"""Errors answer in the page's language, and as JSON under /api/; never a bare server page."""

import pytest
from django.test import Client


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "expected"),
    [("/accounts/register/", "フォームの有効期限"), ("/en/accounts/register/", "The form has expired")],
)
def test_a_form_without_its_csrf_token_gets_a_clear_page(path, expected):
    client = Client(enforce_csrf_checks=True)
    response = client.post(path, {"login_id": "someone", "name": "x", "email": "x@example.com"})
    assert response.status_code == 403
    assert expected in response.content.decode()


@pytest.mark.django_db
def test_an_unknown_page_is_a_404_in_the_pages_language(client):
    response = client.get("/ko/no-such-page/")
    assert response.status_code == 404
    assert 'lang="ko"' in response.content.decode()


@pytest.mark.django_db
def test_an_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/no-such-endpoint", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "errors": {}}
