"""The site's icon: /favicon.ico at the root (browsers ask for it on every site, the back office
included), the SVG icon and the touch icon linked from every page."""

import struct

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_favicon_is_an_icon_file_cached_and_without_cookies():
    response = Client().get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert "max-age=86400" in response["Cache-Control"]
    assert not response.cookies
    body = response.content
    reserved, kind, count = struct.unpack("<HHH", body[:6])
    assert (reserved, kind) == (0, 1) and count >= 1
    width, height = body[6], body[7]
    assert (width, height) == (32, 32)
    size, offset = struct.unpack("<II", body[14:22])
    assert body[offset : offset + 8] == b"\x89PNG\r\n\x1a\n" and offset + size <= len(body)


@pytest.mark.parametrize("path", ["/", "/en/privacy/policy/", "/ko/legal/commerce/"])
def test_every_page_links_the_icons_and_they_exist(path):
    html = Client().get(path).content.decode()
    assert 'rel="icon"' in html and 'type="image/svg+xml"' in html
    assert 'rel="apple-touch-icon"' in html
    for name in ("kirakira/icon.svg", "kirakira/apple-touch-icon.png"):
        assert finders.find(name), name
