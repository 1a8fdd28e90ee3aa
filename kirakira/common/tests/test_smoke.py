import pytest


@pytest.mark.django_db
def test_home_page_renders_in_japanese_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Language"] == "ja"
