"""The registration page: who gets created, what is sent, and how bad input is refused."""

import pytest

from kirakira.accounts.models import User
from kirakira.common.testing import PASSWORD, MemberFactory
from kirakira.legal.services import first_version

from .helpers import assert_page_says, en, full_width, ja, link_in, logged_in_user_id

REGISTER = {"ja": "/accounts/register/", "en": "/en/accounts/register/"}
CONFIRMATION_SUBJECT = "Kirakira SNS: please confirm your email address"


def form(**overrides) -> dict:
    data = {
        "login_id": "hanako",
        "name": "山田 花子",
        "email": "hanako@example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "accept_terms": "on",
    }
    data.update(overrides)
    return data


def register(client, capture, language="ja", **overrides):
    with capture(execute=True):
        return client.post(REGISTER[language], form(**overrides))


# --- Success -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_registration_creates_an_unconfirmed_member(client, django_capture_on_commit_callbacks):
    response = register(client, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    user = User.objects.get()
    assert user.login_id == "hanako"
    assert user.email == "hanako@example.com"
    assert user.email_confirmed_at is None
    assert not user.can_order
    assert not user.is_staff and not user.is_superuser
    assert user.check_password(PASSWORD)
    assert user.language == "ja"


@pytest.mark.django_db
def test_registration_logs_the_new_member_in_and_shows_my_page(client, django_capture_on_commit_callbacks):
    response = register(client, django_capture_on_commit_callbacks)

    assert response["Location"] == "/accounts/mypage/"
    assert logged_in_user_id(client) == str(User.objects.get().pk)
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert_page_says(
        page,
        ja("Welcome! We have sent a confirmation link to your email address. Open it to start ordering."),
    )


@pytest.mark.django_db
def test_registration_sends_exactly_one_confirmation_email(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    register(client, django_capture_on_commit_callbacks)

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["hanako@example.com"]
    assert message.subject == ja(CONFIRMATION_SUBJECT)
    assert link_in(message).startswith("/accounts/confirm/")


@pytest.mark.django_db
def test_confirmation_email_is_sent_only_after_the_registration_commits(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    first_version()  # published by the first registration of the site: here, before
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(REGISTER["ja"], form())

    assert len(callbacks) == 1
    assert mailoutbox == []


@pytest.mark.django_db
def test_confirmation_email_subject_carries_no_personal_data(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    register(
        client,
        django_capture_on_commit_callbacks,
        login_id="sakurako77",
        name="佐倉 桜子",
        email="sakura.private@example.com",
    )

    subject = mailoutbox[0].subject.lower()
    for personal in ("sakurako77", "佐倉", "桜子", "sakura.private", "sakura.private@example.com"):
        assert personal not in subject


@pytest.mark.django_db
def test_registration_on_the_english_site_records_english_and_mails_in_english(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    response = register(client, django_capture_on_commit_callbacks, language="en")

    assert response["Location"] == "/en/accounts/mypage/"
    assert User.objects.get().language == "en"
    assert mailoutbox[0].subject == CONFIRMATION_SUBJECT
    assert link_in(mailoutbox[0]).startswith("/en/accounts/confirm/")


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["HanaKO", "ＨＡＮＡＫＯ", " hanako "])
def test_login_id_is_stored_folded_to_lowercase_half_width(typed, client, django_capture_on_commit_callbacks):
    register(client, django_capture_on_commit_callbacks, login_id=typed)

    assert User.objects.get().login_id == "hanako"


@pytest.mark.django_db
def test_email_is_stored_folded_to_lowercase_half_width(client, django_capture_on_commit_callbacks):
    register(client, django_capture_on_commit_callbacks, email="ＨＡＮＡＫＯ＠Example.COM")

    assert User.objects.get().email == "hanako@example.com"


@pytest.mark.django_db
def test_name_keeps_full_width_characters_and_is_trimmed(client, django_capture_on_commit_callbacks):
    register(client, django_capture_on_commit_callbacks, name="\u3000 ＹＡＭＡＤＡ\u3000花子ｶﾅ \u3000")

    assert User.objects.get().name == "ＹＡＭＡＤＡ\u3000花子ｶﾅ"


@pytest.mark.django_db
def test_name_of_one_hundred_characters_after_trimming_is_accepted(
    client, django_capture_on_commit_callbacks
):
    response = register(client, django_capture_on_commit_callbacks, name="\u3000 " + "あ" * 100 + " \u3000")

    assert response.status_code == 302
    assert User.objects.get().name == "あ" * 100


@pytest.mark.django_db
def test_logged_in_member_is_sent_to_my_page_instead_of_the_form(client):
    client.force_login(MemberFactory())

    response = client.get(REGISTER["ja"])

    assert response.status_code == 302
    assert response["Location"] == "/accounts/mypage/"


# --- Refusals ----------------------------------------------------------------------------------

TAKEN_LOGIN_ID = "This login ID is already taken."
TAKEN_EMAIL = "This email address is already registered."
LOGIN_ID_CHARACTERS = "Use only lowercase letters a–z, digits 0–9, and the characters _ . -"
LOGIN_ID_LENGTH = ("A login ID is %(min)d to %(max)d characters long.", {"min": 4, "max": 30})
NAME_LENGTH = ("A name is at most %(max)d characters long.", {"max": 100})
NAME_REQUIRED = "Enter your name."
MISMATCH = "The two passwords do not match."
COMMON = "This password is too common."
NUL = "Null characters are not allowed."

BAD_INPUT = {
    # case id: (form overrides, field with the error, message)
    "login ID taken, other case": ({"login_id": "HANAKO"}, "login_id", TAKEN_LOGIN_ID),
    "login ID taken, full width": ({"login_id": "ＨＡＮＡＫＯ"}, "login_id", TAKEN_LOGIN_ID),
    "login ID taken, full width lowercase": ({"login_id": "ｈａｎａｋｏ"}, "login_id", TAKEN_LOGIN_ID),
    "email taken, other case": ({"email": "Hanako@Example.COM"}, "email", TAKEN_EMAIL),
    "email taken, full width": ({"email": full_width("HANAKO@example.com")}, "email", TAKEN_EMAIL),
    "login ID with a space": ({"login_id": "hana ko"}, "login_id", LOGIN_ID_CHARACTERS),
    "login ID with @": ({"login_id": "hana@ko"}, "login_id", LOGIN_ID_CHARACTERS),
    "login ID with kanji": ({"login_id": "花子さん1"}, "login_id", LOGIN_ID_CHARACTERS),
    "login ID too short": ({"login_id": "abc"}, "login_id", LOGIN_ID_LENGTH),
    "login ID too long": ({"login_id": "a" * 31}, "login_id", LOGIN_ID_LENGTH),
    "login ID too long in full width": ({"login_id": "ａ" * 31}, "login_id", LOGIN_ID_LENGTH),
    "login ID far too long": ({"login_id": "a" * 61}, "login_id", LOGIN_ID_LENGTH),
    "name too long after trimming": ({"name": " " + "あ" * 101 + "\u3000"}, "name", NAME_LENGTH),
    "name far too long": ({"name": "あ" * 121}, "name", NAME_LENGTH),
    "name of spaces": ({"name": "    "}, "name", NAME_REQUIRED),
    "name of ideographic spaces": ({"name": "\u3000\u3000"}, "name", NAME_REQUIRED),
    "name of mixed spaces": ({"name": " \u3000 \t"}, "name", NAME_REQUIRED),
    "passwords differ": ({"password2": PASSWORD + "x"}, "password2", MISMATCH),
    "too common password": ({"password1": "qwertyuiop", "password2": "qwertyuiop"}, "password1", COMMON),
    "NUL in login ID": ({"login_id": "hana\x00ko"}, "login_id", NUL),
    "NUL in name": ({"name": "山田\x00花子"}, "name", NUL),
    "NUL in email": ({"email": "ha\x00nako@example.org"}, "email", NUL),
    "NUL in password": ({"password1": PASSWORD + "\x00", "password2": PASSWORD + "\x00"}, "password1", NUL),
}


def _text(message, translate) -> str:
    if isinstance(message, tuple):
        msgid, params = message
        return translate(msgid, **params)
    return translate(message)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize(("overrides", "field", "message"), BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_registration_is_refused_with_a_clear_form_error_and_creates_nobody(
    overrides, field, message, language, client, mailoutbox, django_capture_on_commit_callbacks
):
    existing = MemberFactory(login_id="hanako", email="hanako@example.com")
    others = {"login_id": "sakura", "email": "sakura@example.com"}
    data = {**others, **overrides}

    response = register(client, django_capture_on_commit_callbacks, language=language, **data)

    expected = _text(message, ja if language == "ja" else en)
    assert response.status_code == 200
    assert expected in response.context["form"].errors[field]
    assert_page_says(response, expected)
    assert list(User.objects.all()) == [existing]
    assert mailoutbox == []
    assert logged_in_user_id(client) is None


@pytest.mark.django_db
def test_japanese_message_for_nul_characters_says_what_is_wrong():
    # Django's own Japanese catalog renders this as "enter some characters", which misleads.
    assert ja(NUL) != "何か文字を入力してください。"


@pytest.mark.django_db
def test_registration_page_shows_field_labels_in_japanese_by_default(client):
    response = client.get(REGISTER["ja"])

    assert response.status_code == 200
    assert response["Content-Language"] == "ja"
    for label in ("Login ID", "Name", "Email address", "Password", "Password (again)"):
        assert_page_says(response, ja(label))


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_error_of_a_registration_shows_at_once_even_with_passwords_that_differ(
    language, client, mailoutbox, django_capture_on_commit_callbacks
):
    # Seen: the mismatch alone was shown, hiding a wrong login ID, name and a taken email.
    existing = MemberFactory(login_id="hanako", email="hanako@example.com")
    response = register(
        client,
        django_capture_on_commit_callbacks,
        language=language,
        login_id="hana ko",
        name="\u3000\u3000",
        email="Hanako@Example.COM",
        password2=PASSWORD + "x",
    )
    translate = ja if language == "ja" else en
    errors = response.context["form"].errors
    assert response.status_code == 200
    assert translate(MISMATCH) in errors["password2"]
    assert translate(LOGIN_ID_CHARACTERS) in errors["login_id"]
    assert translate(NAME_REQUIRED) in errors["name"]
    assert translate(TAKEN_EMAIL) in errors["email"]
    for message in (MISMATCH, LOGIN_ID_CHARACTERS, NAME_REQUIRED, TAKEN_EMAIL):
        assert_page_says(response, translate(message))
    assert list(User.objects.all()) == [existing]
    assert mailoutbox == []


@pytest.mark.django_db
def test_a_weak_password_is_named_beside_the_mismatch(client, django_capture_on_commit_callbacks):
    response = register(
        client, django_capture_on_commit_callbacks, password1="qwertyuiop", password2="qwertyuiopx"
    )
    errors = response.context["form"].errors
    assert ja(MISMATCH) in errors["password2"]
    assert ja(COMMON) in errors["password1"]
