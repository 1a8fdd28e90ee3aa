"""Logging in and out, the lockout after repeated failures, and changing or resetting a password."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.utils import translation
from django.utils.translation import ngettext

from kirakira.accounts.models import User
from kirakira.common.testing import PASSWORD, MemberFactory

from .helpers import assert_page_says, en, full_width, ja, link_in, logged_in_user_id, page_text

LOGIN = {"ja": "/accounts/login/", "en": "/en/accounts/login/"}
WRONG = "wrong-password-123"
INCORRECT = "The login ID or password is incorrect."
LOCKED_ONE = (
    "Too many failed login attempts. For your security, logging in with this login ID "
    "from your connection is blocked for %(minutes)d minute."
)
LOCKED_MANY = (
    "Too many failed login attempts. For your security, logging in with this login ID "
    "from your connection is blocked for %(minutes)d minutes."
)


def locked(language: str, minutes: int = 15) -> str:
    """The lockout message as the page's language says it; fails without a Japanese text."""
    with translation.override(language):
        text = ngettext(LOCKED_ONE, LOCKED_MANY, minutes) % {"minutes": minutes}
    if language == "ja":
        assert text != LOCKED_MANY % {"minutes": minutes}, "no Japanese translation of the lockout message"
    return text
NEW_PASSWORD = "a-brand-new-secret-42"


def log_in(client, login_id, password, *, language="ja", ip="127.0.0.1"):
    return client.post(LOGIN[language], {"username": login_id, "password": password}, REMOTE_ADDR=ip)


def fail_five_times(client, login_id, *, ip="127.0.0.1"):
    responses = [log_in(client, login_id, WRONG, ip=ip) for _ in range(5)]
    for response in responses[:4]:
        assert response.status_code == 200
    return responses


def age_failed_attempts(by: timedelta) -> None:
    """Move the recorded failures into the past (axes reads its own clock, not ours)."""
    assert AccessAttempt.objects.exists()
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - by)


# --- Logging in --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_member_logs_in_with_login_id_and_password(client):
    member = MemberFactory()

    response = log_in(client, member.login_id, PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/mypage/"
    assert logged_in_user_id(client) == str(member.pk)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "variant",
    [str.upper, str.title, full_width, lambda s: full_width(s.upper()), lambda s: f" {s} "],
    ids=["upper case", "title case", "full width", "full width upper case", "surrounding spaces"],
)
def test_login_id_is_accepted_in_any_case_and_width(variant, client):
    member = MemberFactory(login_id="hanako")

    response = log_in(client, variant("hanako"), PASSWORD)

    assert response.status_code == 302
    assert logged_in_user_id(client) == str(member.pk)


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "translate"), [("ja", ja), ("en", en)])
def test_wrong_password_is_refused_with_a_clear_message(language, translate, client):
    member = MemberFactory()

    response = log_in(client, member.login_id, WRONG, language=language)

    assert response.status_code == 200
    assert_page_says(response, translate(INCORRECT))
    assert logged_in_user_id(client) is None


@pytest.mark.django_db
def test_unknown_login_id_gets_the_same_message_as_a_wrong_password(client):
    MemberFactory(login_id="hanako")

    unknown = log_in(client, "nobody-here", PASSWORD)
    wrong = log_in(client, "hanako", WRONG)

    assert unknown.status_code == wrong.status_code == 200
    assert_page_says(unknown, ja(INCORRECT))
    assert_page_says(wrong, ja(INCORRECT))


@pytest.mark.django_db
def test_password_is_case_sensitive(client):
    member = MemberFactory()

    response = log_in(client, member.login_id, PASSWORD.upper())

    assert response.status_code == 200
    assert logged_in_user_id(client) is None


@pytest.mark.django_db
def test_deactivated_member_cannot_log_in(client):
    member = MemberFactory(is_active=False)

    response = log_in(client, member.login_id, PASSWORD)

    assert response.status_code == 200
    assert logged_in_user_id(client) is None


# --- Lockout -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sixth_attempt_after_five_failures_is_refused_even_with_the_correct_password(client):
    member = MemberFactory()  # the production hasher, as everywhere outside this section
    fail_five_times(client, member.login_id)

    response = log_in(client, member.login_id, PASSWORD)

    assert response.status_code == 429
    assert_page_says(response, locked("ja"))
    assert response["Retry-After"] == str(15 * 60)
    assert logged_in_user_id(client) is None


@pytest.mark.django_db
def test_the_lockout_says_the_cool_off_time_axes_is_configured_with(client, fast_member, settings):
    """The figures were copied into the message; they are read from the axes settings now."""
    settings.AXES_COOLOFF_TIME = timedelta(minutes=30)
    member = fast_member()
    fail_five_times(client, member.login_id)

    response = log_in(client, member.login_id, PASSWORD, language="en")

    assert response.status_code == 429
    assert_page_says(response, locked("en", 30))
    assert response["Retry-After"] == str(30 * 60)


@pytest.mark.django_db
def test_four_failures_do_not_lock(client, fast_member):
    member = fast_member()
    for _ in range(4):
        assert log_in(client, member.login_id, WRONG).status_code == 200

    response = log_in(client, member.login_id, PASSWORD)

    assert response.status_code == 302
    assert logged_in_user_id(client) == str(member.pk)


@pytest.mark.django_db
def test_successful_login_clears_earlier_failures(client, fast_member):
    member = fast_member()
    for _ in range(4):
        log_in(client, member.login_id, WRONG)
    assert log_in(client, member.login_id, PASSWORD).status_code == 302
    client.post("/accounts/logout/")

    for _ in range(4):
        assert log_in(client, member.login_id, WRONG).status_code == 200
    response = log_in(client, member.login_id, PASSWORD)

    assert response.status_code == 302


@pytest.mark.django_db
def test_failures_count_against_the_login_id_whatever_its_case_or_width(client, fast_member):
    fast_member(login_id="hanako")
    for typed in ["hanako", "HANAKO", "ｈａｎａｋｏ", "ＨＡＮＡＫＯ", "Hanako"]:
        log_in(client, typed, WRONG)

    response = log_in(client, "hanako", PASSWORD)

    assert response.status_code == 429
    assert logged_in_user_id(client) is None


@pytest.mark.django_db
def test_locked_pair_stays_locked_for_another_login_id_variant(client, fast_member):
    fast_member(login_id="hanako")
    fail_five_times(client, "hanako")

    response = log_in(client, full_width("HANAKO"), PASSWORD)

    assert response.status_code == 429


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["ja", "en"])
def test_lockout_message_is_in_the_page_language(language, client, fast_member):
    member = fast_member()
    fail_five_times(client, member.login_id)

    response = log_in(client, member.login_id, PASSWORD, language=language)

    assert response.status_code == 429
    assert_page_says(response, locked(language))
    assert response["Content-Language"] == language


@pytest.mark.django_db
def test_lockout_does_not_block_the_same_login_id_from_another_address(client, fast_member):
    member = fast_member()
    fail_five_times(client, member.login_id, ip="203.0.113.7")

    response = log_in(client, member.login_id, PASSWORD, ip="198.51.100.9")

    assert response.status_code == 302
    assert logged_in_user_id(client) == str(member.pk)


@pytest.mark.django_db
def test_lockout_does_not_block_another_login_id_from_the_same_address(client, fast_member):
    attacked, other = fast_member(), fast_member()
    fail_five_times(client, attacked.login_id)

    response = log_in(client, other.login_id, PASSWORD)

    assert response.status_code == 302
    assert logged_in_user_id(client) == str(other.pk)


@pytest.mark.django_db
def test_forwarded_for_header_from_an_untrusted_client_does_not_escape_the_lockout(client, fast_member):
    member = fast_member()
    fail_five_times(client, member.login_id)

    response = client.post(
        LOGIN["ja"],
        {"username": member.login_id, "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.9",
    )

    assert response.status_code == 429


@pytest.mark.django_db
def test_lockout_still_holds_just_before_fifteen_minutes(client, fast_member):
    member = fast_member()
    fail_five_times(client, member.login_id)
    age_failed_attempts(timedelta(minutes=14, seconds=50))

    response = log_in(client, member.login_id, PASSWORD)

    assert response.status_code == 429


@pytest.mark.django_db
def test_lockout_ends_after_fifteen_minutes(client, fast_member):
    member = fast_member()
    fail_five_times(client, member.login_id)
    age_failed_attempts(timedelta(minutes=15, seconds=1))

    response = log_in(client, member.login_id, PASSWORD)

    assert response.status_code == 302
    assert logged_in_user_id(client) == str(member.pk)


# --- Logging out -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_logout_by_post_ends_the_session(client):
    client.force_login(MemberFactory())

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert logged_in_user_id(client) is None
    assert client.get("/accounts/mypage/").status_code == 302


@pytest.mark.django_db
def test_logout_by_get_is_refused_and_keeps_the_session(client):
    member = MemberFactory()
    client.force_login(member)

    response = client.get("/accounts/logout/")

    assert response.status_code == 405
    assert logged_in_user_id(client) == str(member.pk)


# --- Changing the password ---------------------------------------------------------------------

PASSWORD_CHANGE = "/accounts/password/change/"


@pytest.mark.django_db
def test_password_change_page_needs_login(client):
    response = client.get(PASSWORD_CHANGE)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={PASSWORD_CHANGE}"


@pytest.mark.django_db
def test_password_change_page_shows_the_form(client):
    client.force_login(MemberFactory())

    response = client.get(PASSWORD_CHANGE)

    assert response.status_code == 200
    assert_page_says(response, ja("Change your password"))
    assert 'name="old_password"' in page_text(response)


@pytest.mark.django_db
def test_member_changes_their_password_and_stays_logged_in(client):
    member = MemberFactory()
    client.force_login(member)

    response = client.post(
        PASSWORD_CHANGE,
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/change/done/"
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)
    assert client.get("/accounts/mypage/").status_code == 200
    assert_page_says(client.get(response["Location"]), ja("Your password has been changed."))


@pytest.mark.django_db
def test_password_change_with_a_wrong_current_password_is_refused(client):
    member = MemberFactory()
    client.force_login(member)

    response = client.post(
        PASSWORD_CHANGE,
        {"old_password": WRONG, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    assert_page_says(response, ja("Your old password was entered incorrectly. Please enter it again."))
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


@pytest.mark.django_db
def test_new_password_works_for_login_and_old_one_does_not(client):
    member = MemberFactory()
    client.force_login(member)
    client.post(
        PASSWORD_CHANGE,
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    client.post("/accounts/logout/")

    assert log_in(client, member.login_id, PASSWORD).status_code == 200
    assert log_in(client, member.login_id, NEW_PASSWORD).status_code == 302


# --- Resetting a forgotten password ------------------------------------------------------------

PASSWORD_RESET = "/accounts/password/reset/"


def ask_for_reset(client, capture, email):
    with capture(execute=True):
        return client.post(PASSWORD_RESET, {"email": email})


@pytest.mark.django_db
def test_reset_request_for_a_registered_address_sends_one_mail(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    member = MemberFactory(login_id="sakurako77", name="佐倉 桜子")

    response = ask_for_reset(client, django_capture_on_commit_callbacks, member.email)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [member.email]
    assert message.subject == ja("Kirakira SNS: resetting your password")
    for personal in (member.login_id, member.email, "佐倉", "桜子"):
        assert personal not in message.subject
    assert link_in(message).startswith("/accounts/password/reset/")


@pytest.mark.django_db
def test_reset_request_finds_the_address_whatever_its_case_or_width(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    member = MemberFactory(email="hanako@example.com")

    ask_for_reset(client, django_capture_on_commit_callbacks, full_width("HANAKO@EXAMPLE.COM"))

    assert [m.to for m in mailoutbox] == [[member.email]]


@pytest.mark.django_db
def test_reset_request_for_an_unknown_address_sends_nothing_and_looks_the_same(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    member = MemberFactory()

    known = ask_for_reset(client, django_capture_on_commit_callbacks, member.email)
    mailoutbox.clear()
    unknown = ask_for_reset(client, django_capture_on_commit_callbacks, "nobody@example.com")

    assert mailoutbox == []
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert page_text(client.get(unknown["Location"])) == page_text(client.get(known["Location"]))


@pytest.mark.django_db
def test_reset_request_for_a_deactivated_member_sends_nothing(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    member = MemberFactory(is_active=False)

    response = ask_for_reset(client, django_capture_on_commit_callbacks, member.email)

    assert response.status_code == 302
    assert mailoutbox == []


def _set_password_by_link(client, link, password):
    landing = client.get(link)
    assert landing.status_code == 302  # Django moves the token out of the address bar
    form_url = landing["Location"]
    assert client.get(form_url).status_code == 200
    return client.post(form_url, {"new_password1": password, "new_password2": password})


@pytest.mark.django_db
def test_reset_link_sets_a_new_password(client, mailoutbox, django_capture_on_commit_callbacks):
    member = MemberFactory()
    ask_for_reset(client, django_capture_on_commit_callbacks, member.email)

    response = _set_password_by_link(client, link_in(mailoutbox[0]), NEW_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/complete/"
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)
    assert log_in(client, member.login_id, NEW_PASSWORD).status_code == 302


@pytest.mark.django_db
def test_reset_link_works_only_once(client, mailoutbox, django_capture_on_commit_callbacks):
    member = MemberFactory()
    ask_for_reset(client, django_capture_on_commit_callbacks, member.email)
    link = link_in(mailoutbox[0])
    _set_password_by_link(client, link, NEW_PASSWORD)

    second = client.get(link, follow=True)

    assert_page_says(second, ja("This password reset link is invalid, has expired or has already been used."))
    assert 'name="new_password1"' not in page_text(second)
    response = client.post(
        second.redirect_chain[-1][0] if second.redirect_chain else link,
        {"new_password1": "yet-another-secret-77", "new_password2": "yet-another-secret-77"},
    )
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)


@pytest.mark.django_db
def test_reset_link_refuses_a_too_common_password(client, mailoutbox, django_capture_on_commit_callbacks):
    member = MemberFactory()
    ask_for_reset(client, django_capture_on_commit_callbacks, member.email)

    response = _set_password_by_link(client, link_in(mailoutbox[0]), "qwertyuiop")

    assert response.status_code == 200
    assert_page_says(response, ja("This password is too common."))
    assert User.objects.get(pk=member.pk).check_password(PASSWORD)
