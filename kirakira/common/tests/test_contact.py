"""Phone numbers and names as each reader should see them (kirakira/common/contact.py)."""

import pytest
from django.utils import translation

from kirakira.common.contact import display_phone, phone_for_language


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("09011112222", "090-1111-2222"),
        ("090-1111-2222", "090-1111-2222"),
        ("090 1111 2222", "090-1111-2222"),
        ("(090)1111-2222", "090-1111-2222"),
        ("+81 90 1111 2222", "090-1111-2222"),
        ("+81-90-1111-2222", "090-1111-2222"),
        ("0312345678", "03-1234-5678"),
        ("06-1234-5678", "06-1234-5678"),
        ("0451234567", "045-123-4567"),
        ("0120123456", "0120-123-456"),
        ("08001234567", "0800-123-4567"),
        ("05012345678", "050-1234-5678"),
        ("+82 10 1234 5678", "+82 10 1234 5678"),  # not Japanese: as typed
        ("12345", "12345"),
        ("", ""),
    ],
)
def test_a_phone_number_has_one_written_form(typed, shown):
    assert display_phone(typed) == shown


@pytest.mark.parametrize(("language", "shown"), [("ja", "03-0000-0000"), ("en", "+81-3-0000-0000"), ("ko", "+81-3-0000-0000")])
def test_a_japanese_number_is_international_outside_japanese_pages(language, shown):
    with translation.override(language):
        assert phone_for_language("03-0000-0000") == shown
        assert phone_for_language("+81-3-0000-0000") == "+81-3-0000-0000"
