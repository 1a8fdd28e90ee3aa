"""Free text people type (subjects, messages, notes, reasons, names on statements): which
characters it may hold.

Invisible and control characters are refused, as ``accounts.normalization.validate_name``
refuses them in names: a right-to-left override (U+202E) makes a staff member read a message
or a reference backwards, zero-width characters make two texts that look the same differ (or
hide words from a search), control characters corrupt exports, logs and emails. Refused are the
categories Cc (control), Cf (format), Cs (surrogates), Co (private use), Cn (unassigned), and
Zl / Zp (U+2028, U+2029: line breaks no keyboard types, which some programs show as one and
others not).

Allowed, on purpose:
- in a text of several lines (a message, a note, a reason): line breaks, stored as ``\\n``
  (browsers send CRLF; a lone CR is read as a line break too), and tabs, which text pasted
  from a spreadsheet or a mail carries and which hide nothing;
- U+200D ZERO WIDTH JOINER between two emoji, which is how family, profession and flag emoji
  are written (👨‍👩‍👧, 🧑‍💻, 🏳️‍🌈); anywhere else it is as invisible as U+200B and refused;
- tag characters (U+E0020–U+E007F) only inside an emoji tag sequence (🏴 + tags + U+E007F,
  the flags of England, Scotland and Wales);
- variation selectors (U+FE0F, category Mn) and skin-tone modifiers, which are not in the
  refused categories anyway.
The zero width non-joiner (U+200C), needed in Persian and some Indic scripts, is refused: the
site is written in Japanese, English and Korean, none of which uses it.

Hand-written because no maintained library in the project answers "is this character an
emoji" (Python's ``unicodedata`` has no Extended_Pictographic property); the ranges below are
that property's, from Unicode's emoji-data.txt, including the blocks it reserves for future
emoji, so an emoji added later needs no change here.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
ZWJ = "\u200d"
BLACK_FLAG = "\U0001f3f4"
CANCEL_TAG = "\U000e007f"
_TAGS = range(0xE0020, 0xE007F)  # the tag letters, digits and symbols, without CANCEL TAG
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_VARIATION_SELECTORS = ("\ufe0e", "\ufe0f")

# Extended_Pictographic (Unicode 15.1 emoji-data.txt), as inclusive ranges.
_PICTOGRAPHIC = (
    (0x00A9, 0x00A9), (0x00AE, 0x00AE), (0x203C, 0x203C), (0x2049, 0x2049), (0x2122, 0x2122),
    (0x2139, 0x2139), (0x2194, 0x2199), (0x21A9, 0x21AA), (0x231A, 0x231B), (0x2328, 0x2328),
    (0x2388, 0x2388), (0x23CF, 0x23CF), (0x23E9, 0x23F3), (0x23F8, 0x23FA), (0x24C2, 0x24C2),
    (0x25AA, 0x25AB), (0x25B6, 0x25B6), (0x25C0, 0x25C0), (0x25FB, 0x25FE), (0x2600, 0x2605),
    (0x2607, 0x2612), (0x2614, 0x2685), (0x2690, 0x2705), (0x2708, 0x2712), (0x2714, 0x2714),
    (0x2716, 0x2716), (0x271D, 0x271D), (0x2721, 0x2721), (0x2728, 0x2728), (0x2733, 0x2734),
    (0x2744, 0x2744), (0x2747, 0x2747), (0x274C, 0x274C), (0x274E, 0x274E), (0x2753, 0x2755),
    (0x2757, 0x2757), (0x2763, 0x2767), (0x2795, 0x2797), (0x27A1, 0x27A1), (0x27B0, 0x27B0),
    (0x27BF, 0x27BF), (0x2934, 0x2935), (0x2B05, 0x2B07), (0x2B1B, 0x2B1C), (0x2B50, 0x2B50),
    (0x2B55, 0x2B55), (0x3030, 0x3030), (0x303D, 0x303D), (0x3297, 0x3297), (0x3299, 0x3299),
    (0x1F000, 0x1F0FF), (0x1F10D, 0x1F10F), (0x1F12F, 0x1F12F), (0x1F16C, 0x1F171),
    (0x1F17E, 0x1F17F), (0x1F18E, 0x1F18E), (0x1F191, 0x1F19A), (0x1F1AD, 0x1F1E5),
    (0x1F201, 0x1F20F), (0x1F21A, 0x1F21A), (0x1F22F, 0x1F22F), (0x1F232, 0x1F23A),
    (0x1F23C, 0x1F23F), (0x1F249, 0x1F3FA), (0x1F400, 0x1F53D), (0x1F546, 0x1F64F),
    (0x1F680, 0x1F6FF), (0x1F774, 0x1F77F), (0x1F7D5, 0x1F7FF), (0x1F80C, 0x1F80F),
    (0x1F848, 0x1F84F), (0x1F85A, 0x1F85F), (0x1F888, 0x1F88F), (0x1F8AE, 0x1F8FF),
    (0x1F90C, 0x1F93A), (0x1F93C, 0x1F945), (0x1F947, 0x1FAFF), (0x1FC00, 0x1FFFD),
)  # fmt: skip


def is_pictographic(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _PICTOGRAPHIC)


def _emoji_before(text: str, index: int) -> bool:
    """Whether the character before ``index`` ends an emoji (ignoring the variation selector
    and skin tone that may follow one)."""
    index -= 1
    while index >= 0 and (text[index] in _VARIATION_SELECTORS or ord(text[index]) in _SKIN_TONES):
        index -= 1
    return index >= 0 and is_pictographic(text[index])


def _allowed_joiner(text: str, index: int) -> bool:
    return _emoji_before(text, index) and index + 1 < len(text) and is_pictographic(text[index + 1])


def _tag_sequence_end(text: str, index: int) -> int | None:
    """The index after an emoji tag sequence whose tags start at ``index`` (just after a black
    flag), or None when they do not form one."""
    end = index
    while end < len(text) and ord(text[end]) in _TAGS:
        end += 1
    if end == index or end >= len(text) or text[end] != CANCEL_TAG:
        return None
    return end + 1


def _refused_at(text: str, *, multiline: bool) -> int | None:
    index = 0
    while index < len(text):
        char = text[index]
        if multiline and char in "\n\t":
            index += 1
            continue
        if char == BLACK_FLAG:
            end = _tag_sequence_end(text, index + 1)
            index = end if end is not None else index + 1
            continue
        if unicodedata.category(char) in REFUSED_CATEGORIES:
            if not (char == ZWJ and _allowed_joiner(text, index)):
                return index
        index += 1
    return None


def clean_text(value: str, *, multiline: bool) -> str:
    """``value`` with its line breaks as ``\\n`` (several lines) or, after checking, as it is;
    raises ``ValidationError`` (code ``line_break`` or ``invisible_character``) naming the
    first refused character, its code point and its place, since the writer cannot see it."""
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    index = _refused_at(value, multiline=multiline)
    if index is None:
        return value
    char = value[index]
    if not multiline and char in "\r\n\u2028\u2029":
        raise ValidationError(_("Write this on one line: line breaks cannot be used here."), code="line_break")
    raise ValidationError(
        _(
            "This text contains an invisible or control character (%(code_point)s, character "
            "%(position)d) that cannot be used. Delete it and try again."
        ),
        code="invisible_character",
        params={"code_point": f"U+{ord(char):04X}", "position": index + 1},
    )
