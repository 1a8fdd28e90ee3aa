"""Free text (subjects, messages, notes, reasons, a payer's name) refuses invisible and control
characters as names do, keeps line breaks only where a text has several lines, and keeps the
emoji that Japanese and Korean messages are full of, family and flag sequences included.

Each app's own fields are tested where they live (consultations, orders); here the shared
rule, and the one field of the privacy core: the reason given to reveal a masked value."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext

from kirakira.common.roles import Role
from kirakira.common.testing import StaffFactory
from kirakira.common.text import clean_text
from kirakira.orders import lifecycle
from kirakira.orders.models import Refund
from kirakira.orders.testing import place_order, record_payment
from kirakira.privacy.audit.reveal import reveal

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 👨‍👩‍👧‍👦
TECHNOLOGIST = "\U0001f9d1\U0001f3fd\u200d\U0001f4bb"  # 🧑🏽‍💻, a skin tone before the joiner
RAINBOW_FLAG = "\U0001f3f3\ufe0f\u200d\U0001f308"  # 🏳️‍🌈, a variation selector before it
HEART_ON_FIRE = "\u2764\ufe0f\u200d\U0001f525"  # ❤️‍🔥
ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"  # 🏴󠁧󠁢󠁥󠁮󠁧󠁿
KEYCAP_ONE = "1\ufe0f\u20e3"  # 1️⃣
JAPAN = "\U0001f1ef\U0001f1f5"  # 🇯🇵



@pytest.fixture
def english():
    """These tests read the English messages; the default language is Japanese."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()

def refused(value, *, multiline):
    with pytest.raises(ValidationError) as caught:
        clean_text(value, multiline=multiline)
    return caught.value


# --- What is refused --------------------------------------------------------------------------


@pytest.mark.parametrize("multiline", [False, True], ids=["one line", "several lines"])
@pytest.mark.parametrize(
    ("value", "code_point", "position"),
    [
        ("返金\u202eお願い", "U+202E", 3),  # right-to-left override
        ("\u200bこんにちは", "U+200B", 1),  # zero width space
        ("abc\u200d", "U+200D", 4),  # a joiner after a letter: invisible
        ("\u200d\U0001f600", "U+200D", 1),  # a joiner with nothing before it
        ("\U0001f600\u200dx", "U+200D", 2),  # a joiner before a letter
        ("ok\ufeff", "U+FEFF", 3),  # byte order mark / zero width no-break space
        ("a\u2066b", "U+2066", 2),  # left-to-right isolate
        ("a\u200cb", "U+200C", 2),  # zero width non-joiner
        ("bell\x07", "U+0007", 5),  # a control character
        ("esc\x1b[31m", "U+001B", 4),  # a terminal escape
        ("a\x7fb", "U+007F", 2),
        ("a\x85b", "U+0085", 2),  # NEXT LINE, a C1 control
        ("a\ue000b", "U+E000", 2),  # private use
        ("a\U000e0041b", "U+E0041", 2),  # a tag character outside a flag
        ("\U0001f3f4\U000e0067\U000e0062", "U+E0067", 2),  # a flag's tags without CANCEL TAG
        ("a\u0378b", "U+0378", 2),  # unassigned
    ],
)
@pytest.mark.usefixtures("english")
def test_invisible_and_control_characters_are_refused(multiline, value, code_point, position):
    error = refused(value, multiline=multiline)

    assert error.code == "invisible_character"
    assert error.params == {"code_point": code_point, "position": position}
    (message,) = error.messages
    assert code_point in message and f"character {position}" in message


def test_the_line_separators_no_keyboard_types_are_refused():
    assert refused("a\u2028b", multiline=False).code == "line_break"
    assert refused("a\u2029b", multiline=True).params == {"code_point": "U+2029", "position": 2}


def test_a_lone_surrogate_is_refused():
    assert refused("a\ud800b", multiline=True).params["code_point"] == "U+D800"


@pytest.mark.parametrize("value", ["一行目\n二行目", "一行目\r\n二行目", "一行目\r二行目", "a\tb"])
@pytest.mark.usefixtures("english")
def test_a_text_of_one_line_refuses_line_breaks_and_tabs(value):
    error = refused(value, multiline=False)

    if "\t" in value:
        assert error.code == "invisible_character"
    else:
        assert error.code == "line_break"
        assert error.messages == ["Write this on one line: line breaks cannot be used here."]


@pytest.mark.parametrize("language", ["ja", "en", "ko"])
def test_the_message_is_in_the_active_language(language):
    msgid = (
        "This text contains an invisible or control character (%(code_point)s, character "
        "%(position)d) that cannot be used. Delete it and try again."
    )
    with translation.override(language):
        (message,) = refused("a\u202e", multiline=True).messages
        assert message == gettext(msgid) % {"code_point": "U+202E", "position": 2}


# --- What is kept ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        f"家族です{FAMILY}よろしく",
        f"{TECHNOLOGIST} エンジニア",
        f"{RAINBOW_FLAG}{HEART_ON_FIRE}",
        f"イングランド {ENGLAND} から",
        f"{KEYCAP_ONE} と {JAPAN}",
        "ありがとう\u2764\ufe0f",  # a variation selector (Mn) alone
        "안녕하세요 👋🏻",  # Hangul and a skin tone modifier
        "ｶﾀｶﾅ　全角スペース",  # half-width katakana, an ideographic space
        "e\u0301",  # a combining accent
    ],
)
@pytest.mark.parametrize("multiline", [False, True], ids=["one line", "several lines"])
def test_emoji_sequences_and_every_script_are_kept_as_they_are(value, multiline):
    assert clean_text(value, multiline=multiline) == value


def test_several_lines_keep_line_breaks_and_tabs_as_newlines():
    assert clean_text("一\r\n二\r三\n\t四", multiline=True) == "一\n二\n三\n\t四"


# --- The reason to reveal a masked value (privacy core) -----------------------------------------


@pytest.fixture
def refund(db):
    order = place_order()
    record_payment(order)
    lifecycle.order_cancel(
        order_id=order.pk,
        member=order.member,
        reason="間違えました",
        refund_account={
            "bank_name": "きらきら銀行",
            "branch": "渋谷支店",
            "account_type": "ordinary",
            "account_number": "1234567",
            "account_holder": "ヤマダ ハナコ",
        },
    )
    return Refund.objects.get()


@pytest.mark.django_db
def test_a_reveal_reason_with_a_hidden_character_reveals_nothing(refund):
    accountant = StaffFactory(roles=[Role.ACCOUNTING])

    with pytest.raises(ValidationError) as caught:
        reveal(actor=accountant, instance=refund, field_name="account_number", reason="返金\u202eのため")

    assert "U+202E" in caught.value.message_dict["reason"][0]
    reason = "返金の振込のため\r\n二行目も"
    assert reveal(actor=accountant, instance=refund, field_name="account_number", reason=reason) == "1234567"


@pytest.mark.django_db
def test_the_reveal_page_refuses_a_zero_width_reason_with_a_form_error(client, refund):
    client.force_login(StaffFactory(roles=[Role.ACCOUNTING]))

    response = client.post(
        f"/en/backoffice/orders/refund/{refund.pk}/reveal/", {"reason": "for the\u200b refund"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert 'class="errorlist' in page and "U+200B" in page
    assert "1234567" not in page
