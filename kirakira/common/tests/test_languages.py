"""How the site picks its language: URL prefix, ?lang=, the preferences cookie (only with consent),
Accept-Language, then Japanese."""

import re

import pytest
from django.conf import settings

from kirakira.common.testing import PASSWORD, MemberFactory
from kirakira.consent.cookies import CONSENT_COOKIE, PREFS_COOKIE
from kirakira.consent.testing import choose, prefs_of, prefs_value

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
PREFIX = {"ja": "", "en": "/en", "ko": "/ko"}

PUBLIC_PAGES = [
    "/",
    "/accounts/register/",
    "/accounts/login/",
    "/accounts/password/reset/",
    "/privacy/policy/",
]


def _html_lang(response):
    match = re.search(r'<html lang="([^"]*)"', response.content.decode())
    assert match, "the page has no <html lang>"
    return match.group(1)


def _language_of(response):
    """The language a page says it is in, checked to agree between header and markup."""
    assert response.status_code == 200, response.status_code
    language = response["Content-Language"]
    assert _html_lang(response) == language
    return language


def _title(response):
    return re.search(r"<title>(.*?)</title>", response.content.decode(), re.S).group(1)


def _hrefs(response):
    return re.findall(r'href="([^"]*)"', response.content.decode())


def _actions(response):
    return re.findall(r'action="([^"]*)"', response.content.decode())


def _switcher(response):
    """{language code: href} of the header's language switcher."""
    links = re.findall(r'<a href="([^"]*)" lang="([^"]*)" hreflang="([^"]*)"', response.content.decode())
    return {hreflang: href.replace("&amp;", "&") for href, _lang, hreflang in links}


def _internal_links(response):
    """Links to the site's own pages: not static files, not the language switcher."""
    switcher = set(_switcher(response).values())
    return [
        link
        for link in _hrefs(response) + _actions(response)
        if link.startswith("/")
        and not link.startswith(settings.STATIC_URL)
        and link.replace("&amp;", "&") not in switcher
    ]


# --- Negotiation --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_without_cookie_or_header_the_site_is_japanese(client):
    response = client.get("/")

    assert _language_of(response) == "ja"
    assert response["Content-Language"] == "ja"
    assert '<html lang="ja">' in response.content.decode()


@pytest.mark.django_db
def test_the_japanese_page_is_written_in_japanese(client):
    assert JAPANESE.search(_title(client.get("/")))


@pytest.mark.django_db
def test_accept_language_en_gives_english_on_an_unprefixed_url(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")

    assert _language_of(response) == "en"
    title = _title(response)
    assert title.isascii()
    assert not JAPANESE.search(title)


@pytest.mark.django_db
def test_an_english_page_keeps_its_links_in_english(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")

    links = _internal_links(response)
    assert "/en/accounts/login/" in links
    assert "/en/accounts/register/" in links
    assert "/en/privacy/policy/" in links
    assert all(link.startswith("/en/") for link in links), links


@pytest.mark.django_db
def test_a_japanese_page_has_unprefixed_links(client):
    links = _internal_links(client.get("/"))

    assert "/accounts/login/" in links
    assert all(not link.startswith(("/en/", "/ko/")) for link in links), links


@pytest.mark.django_db
def test_accept_language_ko_gives_korean(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="ko")

    assert _language_of(response) == "ko"
    assert HANGUL.search(_title(response))
    assert all(link.startswith("/ko/") for link in _internal_links(response))


@pytest.mark.parametrize(
    ("accept_language", "language"),
    [
        ("en-US,en;q=0.9", "en"),
        ("en-GB", "en"),
        ("ko-KR,ko;q=0.9,en;q=0.5", "ko"),
        ("fr-FR,fr;q=0.9,ko;q=0.8,en;q=0.5", "ko"),
        ("de,en;q=0.3", "en"),
        ("ja-JP", "ja"),
        ("ja,en;q=0.9", "ja"),
        ("en;q=0.1,ko;q=0.9", "ko"),
        ("*", "ja"),
    ],
)
@pytest.mark.django_db
def test_accept_language_preferences_are_honoured(client, accept_language, language):
    assert _language_of(client.get("/", HTTP_ACCEPT_LANGUAGE=accept_language)) == language


@pytest.mark.parametrize("prefix", ["en", "ko"])
@pytest.mark.django_db
def test_a_url_prefix_wins_over_header_and_cookie(client, prefix):
    other = "ko" if prefix == "en" else "en"
    choose(client, "accept")
    client.get(f"/?lang={other}")

    response = client.get(f"/{prefix}/", HTTP_ACCEPT_LANGUAGE=other)

    assert _language_of(response) == prefix


@pytest.mark.parametrize("prefix", ["en", "ko"])
@pytest.mark.django_db
def test_a_url_prefix_wins_over_the_lang_parameter(client, prefix):
    other = "ko" if prefix == "en" else "en"
    assert _language_of(client.get(f"/{prefix}/?lang={other}")) == prefix


@pytest.mark.django_db
def test_a_remembered_language_gives_that_language_on_an_unprefixed_url(client):
    choose(client, "accept")
    client.get("/?lang=ko")

    response = client.get("/")

    assert _language_of(response) == "ko"
    assert all(link.startswith("/ko/") for link in _internal_links(response))


@pytest.mark.django_db
def test_the_remembered_language_wins_over_accept_language(client):
    choose(client, "accept")
    client.get("/?lang=en")
    assert _language_of(client.get("/", HTTP_ACCEPT_LANGUAGE="ko")) == "en"


@pytest.mark.django_db
def test_a_remembered_japanese_wins_over_accept_language(client):
    choose(client, "accept")
    client.get("/?lang=ja", HTTP_ACCEPT_LANGUAGE="en")
    assert _language_of(client.get("/", HTTP_ACCEPT_LANGUAGE="en")) == "ja"


@pytest.mark.django_db
def test_djangos_own_language_cookie_is_ignored(client):
    client.cookies["django_language"] = "ko"
    assert _language_of(client.get("/")) == "ja"


@pytest.mark.django_db
def test_a_preferences_cookie_without_consent_is_ignored_and_deleted(client):
    client.cookies[PREFS_COOKIE] = prefs_value({"l": "ko"})

    response = client.get("/")

    assert _language_of(response) == "ja"
    assert response.cookies[PREFS_COOKIE].value == ""  # deleted


@pytest.mark.parametrize(
    "accept_language", ["fr", "zz", "fr-FR,de;q=0.5", "xx-YY", "", ";;;", "q=1", "en;q=abc", "a" * 300]
)
@pytest.mark.django_db
def test_an_unknown_accept_language_gives_japanese(client, accept_language):
    assert _language_of(client.get("/", HTTP_ACCEPT_LANGUAGE=accept_language)) == "ja"


@pytest.mark.parametrize(
    "language", ["xx", "fr", "", "../../etc", "ko;", "zz-ZZ", "a" * 300, 7, None, ["ko"]]
)
@pytest.mark.django_db
def test_an_unknown_remembered_language_gives_japanese_and_is_replaced(client, language):
    choose(client, "accept")
    client.cookies[PREFS_COOKIE] = prefs_value({"l": language})

    response = client.get("/")

    assert _language_of(response) == "ja"
    assert response.cookies[PREFS_COOKIE].value == ""


@pytest.mark.parametrize("code", ["zz", "fr", "", "<script>", "a" * 300, "ko;q=1", "../en"])
@pytest.mark.django_db
def test_an_unknown_lang_parameter_gives_japanese_and_sets_no_cookie(client, code):
    choose(client, "accept")

    response = client.get("/", {"lang": code})

    assert _language_of(response) == "ja"
    assert PREFS_COOKIE not in response.cookies


@pytest.mark.django_db
def test_an_unknown_lang_parameter_keeps_the_browser_language(client):
    assert _language_of(client.get("/?lang=zz", HTTP_ACCEPT_LANGUAGE="en")) == "en"


@pytest.mark.parametrize("language", ["en", "ko", "ja"])
@pytest.mark.django_db
def test_with_consent_the_lang_parameter_is_kept_in_the_preferences_cookie(client, language):
    choose(client, "accept")

    response = client.get(f"/?lang={language}", HTTP_ACCEPT_LANGUAGE="fr")

    assert _language_of(response) == language
    cookie = response.cookies[PREFS_COOKIE]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert prefs_of(client) == {"l": language}


@pytest.mark.parametrize("language", ["en", "ko", "ja"])
@pytest.mark.django_db
def test_before_any_choice_the_lang_parameter_sets_no_cookie_at_all(client, language):
    response = client.get(f"/?lang={language}", HTTP_ACCEPT_LANGUAGE="fr")

    assert _language_of(response) == language
    assert not response.cookies


@pytest.mark.django_db
def test_after_refusing_the_lang_parameter_holds_for_that_page_only(client):
    choose(client, "refuse")

    response = client.get("/?lang=en", HTTP_ACCEPT_LANGUAGE="ko")

    assert _language_of(response) == "en"
    assert PREFS_COOKIE not in response.cookies
    assert all(link.startswith("/en/") for link in _internal_links(response))  # links keep English
    assert _language_of(client.get("/", HTTP_ACCEPT_LANGUAGE="ko")) == "ko"


@pytest.mark.django_db
def test_the_chosen_language_is_remembered_on_later_unprefixed_pages(client):
    choose(client, "accept")
    client.get("/?lang=en")

    response = client.get("/privacy/policy/", HTTP_ACCEPT_LANGUAGE="ko")

    assert _language_of(response) == "en"


@pytest.mark.django_db
def test_the_lang_parameter_wins_over_a_remembered_language(client):
    choose(client, "accept")
    client.get("/?lang=ko")

    response = client.get("/?lang=en")

    assert _language_of(response) == "en"
    assert prefs_of(client) == {"l": "en"}


@pytest.mark.django_db
def test_a_page_without_lang_parameter_sets_no_cookie(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert not response.cookies
    assert CONSENT_COOKIE not in response.cookies


@pytest.mark.django_db
def test_an_unprefixed_page_varies_by_accept_language_and_cookie(client):
    vary = {v.strip().lower() for v in client.get("/")["Vary"].split(",")}
    assert {"accept-language", "cookie"} <= vary


@pytest.mark.parametrize("prefix", ["/fr/", "/xx/", "/zz/accounts/login/"])
@pytest.mark.django_db
def test_a_prefix_that_is_not_a_site_language_is_a_404_not_an_error(client, prefix):
    response = client.get(prefix)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/ja/", "/ja/accounts/login/", "/EN/", "/en", "/ko"])
@pytest.mark.django_db
def test_odd_language_prefixes_are_never_an_error(client, path):
    assert client.get(path).status_code in (200, 301, 302, 404)


# --- The language switcher ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "page"),
    [
        ("/", "/"),
        ("/accounts/login/", "/accounts/login/"),
        ("/en/accounts/register/", "/accounts/register/"),
        ("/ko/privacy/policy/", "/privacy/policy/"),
        ("/en/accounts/password/reset/", "/accounts/password/reset/"),
    ],
)
@pytest.mark.django_db
def test_the_switcher_links_to_the_same_page_in_each_language(client, path, page):
    switcher = _switcher(client.get(path))

    assert switcher == {
        "ja": f"{page}?lang=ja",
        "en": f"/en{page}?lang=en",
        "ko": f"/ko{page}?lang=ko",
    }


@pytest.mark.parametrize("language", ["ja", "en", "ko"])
@pytest.mark.django_db
def test_the_switcher_marks_the_current_language(client, language):
    html = client.get(f"{PREFIX[language]}/privacy/policy/").content.decode()

    current = re.findall(r'hreflang="(\w+)" aria-current="true"', html)
    assert current == [language]


@pytest.mark.django_db
def test_the_switcher_drops_the_query_string(client):
    response = client.get("/accounts/login/?next=/accounts/mypage/&token=secret")

    for href in _switcher(response).values():
        assert "next" not in href
        assert "secret" not in href


@pytest.mark.parametrize("language", ["ja", "en", "ko"])
@pytest.mark.django_db
def test_following_a_switcher_link_serves_that_language_and_remembers_it(client, language):
    choose(client, "accept")
    href = _switcher(client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr"))[language]

    response = client.get(href, HTTP_ACCEPT_LANGUAGE="fr")
    assert _language_of(response) == language

    assert _language_of(client.get("/", HTTP_ACCEPT_LANGUAGE="fr")) == language


@pytest.mark.django_db
def test_switching_back_to_japanese_from_an_english_browser_sticks(client):
    choose(client, "accept")
    href = _switcher(client.get("/en/privacy/policy/"))["ja"]

    assert _language_of(client.get(href, HTTP_ACCEPT_LANGUAGE="en")) == "ja"
    assert _language_of(client.get("/privacy/policy/", HTTP_ACCEPT_LANGUAGE="en")) == "ja"


@pytest.mark.django_db
def test_the_switcher_on_a_members_page_points_to_the_same_page(client):
    client.force_login(MemberFactory())

    switcher = _switcher(client.get("/ko/accounts/mypage/"))

    assert switcher["en"] == "/en/accounts/mypage/?lang=en"
    assert switcher["ja"] == "/accounts/mypage/?lang=ja"


# --- Every page in every language ---------------------------------------------------------------


@pytest.mark.parametrize("language", ["ja", "en", "ko"])
@pytest.mark.parametrize("page", PUBLIC_PAGES)
@pytest.mark.django_db
def test_every_public_page_renders_in_every_language_by_prefix(client, page, language):
    response = client.get(f"{PREFIX[language]}{page}")
    assert _language_of(response) == language


@pytest.mark.parametrize("language", ["ja", "en", "ko"])
@pytest.mark.parametrize("page", PUBLIC_PAGES)
@pytest.mark.django_db
def test_every_public_page_renders_in_every_language_by_header(client, page, language):
    response = client.get(page, HTTP_ACCEPT_LANGUAGE=language)
    assert _language_of(response) == language


@pytest.mark.parametrize("language", ["ja", "en", "ko"])
@pytest.mark.django_db
def test_my_page_renders_in_every_language_when_logged_in(client, language):
    client.force_login(MemberFactory())

    response = client.get(f"{PREFIX[language]}/accounts/mypage/")

    assert _language_of(response) == language


@pytest.mark.parametrize("language", ["ja", "en", "ko"])
@pytest.mark.django_db
def test_my_page_of_an_unconfirmed_member_renders_in_every_language(client, language):
    client.force_login(MemberFactory(email_confirmed_at=None, pending_email="next@example.com"))

    response = client.get(f"{PREFIX[language]}/accounts/mypage/")

    assert _language_of(response) == language


@pytest.mark.parametrize("language", ["ja", "ko"])
@pytest.mark.parametrize("page", PUBLIC_PAGES)
@pytest.mark.django_db
def test_every_public_page_title_is_translated(client, page, language):
    title = _title(client.get(f"{PREFIX[language]}{page}"))
    english_title = _title(client.get(f"/en{page}"))

    assert title != english_title
    assert (JAPANESE if language == "ja" else HANGUL).search(title), title


@pytest.mark.parametrize("language", ["ja", "en", "ko"])
@pytest.mark.django_db
def test_a_404_page_is_in_the_requested_language(client, language):
    response = client.get(f"{PREFIX[language]}/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Language"] == language


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.django_db
def test_logging_in_on_a_prefixed_page_stays_in_that_language(client, language):
    member = MemberFactory()

    response = client.post(
        f"{PREFIX[language]}/accounts/login/", {"username": member.login_id, "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/{language}/accounts/mypage/"


@pytest.mark.parametrize("language", ["ja", "en", "ko"])
@pytest.mark.django_db
def test_a_login_required_redirect_keeps_the_language(client, language):
    response = client.get(f"{PREFIX[language]}/accounts/mypage/")

    assert response.status_code == 302
    assert response["Location"].startswith(f"{PREFIX[language]}/accounts/login/")


# --- A member's language on their account --------------------------------------------------------


@pytest.mark.django_db
def test_a_members_switch_is_kept_on_the_account_without_any_cookie(client):
    member = MemberFactory(language="ja")
    client.force_login(member)

    response = client.get(
        "/accounts/mypage/?lang=ko",
        HTTP_ACCEPT_LANGUAGE="en",
        HTTP_REFERER="http://testserver/accounts/mypage/",
    )

    assert _language_of(response) == "ko"
    assert PREFS_COOKIE not in response.cookies
    member.refresh_from_db()
    assert member.language == "ko"
    assert _language_of(client.get("/accounts/mypage/", HTTP_ACCEPT_LANGUAGE="en")) == "ko"


@pytest.mark.django_db
@pytest.mark.parametrize("referer", [None, "https://elsewhere.example/page"])
def test_a_switch_linked_from_another_site_does_not_change_the_account(client, referer):
    member = MemberFactory(language="ja")
    client.force_login(member)
    headers = {"HTTP_REFERER": referer} if referer else {}

    assert _language_of(client.get("/accounts/mypage/?lang=ko", **headers)) == "ko"  # this page only

    member.refresh_from_db()
    assert member.language == "ja"


@pytest.mark.django_db
def test_the_accounts_language_wins_over_the_browser_but_not_over_a_prefix(client):
    client.force_login(MemberFactory(language="en"))

    assert _language_of(client.get("/", HTTP_ACCEPT_LANGUAGE="ko")) == "en"
    assert _language_of(client.get("/ko/", HTTP_ACCEPT_LANGUAGE="ko")) == "ko"


@pytest.mark.django_db
def test_a_remembered_cookie_language_wins_over_the_accounts(client):
    choose(client, "accept")
    client.get("/?lang=ko")
    client.force_login(MemberFactory(language="en"))

    assert _language_of(client.get("/")) == "ko"


@pytest.mark.django_db
def test_a_lang_parameter_overridden_by_the_prefix_is_not_remembered(client):
    choose(client, "accept")
    member = MemberFactory(language="ja")
    client.force_login(member)

    assert _language_of(client.get("/en/?lang=ko")) == "en"

    assert prefs_of(client) is None
    member.refresh_from_db()
    assert member.language == "ja"
