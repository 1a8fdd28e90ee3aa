"""The policy's cookie section tells how to refuse and delete cookies in current browsers (P46):
Chrome, Safari, Firefox and Edge, on a computer and on a phone, in all three languages, beside
the site's own cookie settings."""

import re

import pytest

pytestmark = pytest.mark.django_db

BROWSERS = ["Google Chrome", "Safari", "Mozilla Firefox", "Microsoft Edge"]


def _rows(html: str) -> dict[str, list[str]]:
    table = re.search(r'<table id="browser-cookie-settings">(.*?)</table>', html, re.S).group(1)
    rows = {}
    for row in re.findall(r"<tr><th scope=\"row\">(.*?)</th>(.*?)</tr>", table, re.S):
        rows[row[0]] = [
            re.sub(r"\s+", " ", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row[1], re.S)
        ]
    return rows


@pytest.mark.parametrize("language", ["ja", "en", "ko"])
def test_each_current_browser_is_explained_for_computer_and_phone(client, language):
    html = client.get(
        f"/{language}/privacy/policy/" if language != "ja" else "/privacy/policy/"
    ).content.decode()
    rows = _rows(html)
    assert list(rows) == BROWSERS
    for browser, cells in rows.items():
        assert len(cells) == 2 and all(len(cell) > 30 for cell in cells), browser
    # Beside the site's own settings.
    intro = re.search(r'<p id="browser-cookie-intro">(.*?)</p>', html, re.S).group(1)
    assert "data-consent-open" in intro


def test_the_instructions_are_translated(client):
    pages = {
        language: _rows(client.get(path).content.decode())
        for language, path in (
            ("ja", "/privacy/policy/"),
            ("en", "/en/privacy/policy/"),
            ("ko", "/ko/privacy/policy/"),
        )
    }
    for browser in BROWSERS:
        for column in range(2):
            english = pages["en"][browser][column]
            assert pages["ja"][browser][column] != english
            assert pages["ko"][browser][column] != english
            assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", pages["ja"][browser][column])
            assert re.search(r"[\uac00-\ud7a3]", pages["ko"][browser][column])
    english = " ".join(" ".join(cells) for cells in pages["en"].values())
    for word in ("To refuse", "delete", "iPhone", "Android"):
        assert word in english
