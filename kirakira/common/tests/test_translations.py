"""The Japanese and Korean catalogs are complete, and the committed .mo files match the .po files.

Japanese is the default language and Korean must be complete, so every entry needs a translation
(plural forms too) and none may be fuzzy: gettext silently falls back to the English msgid for
an empty or fuzzy entry. The .mo files are what Django reads, so they must hold exactly what the
.po files say; after editing a .po, run ``manage.py compilemessages --ignore '.venv/*'``.

Standard library only: a small parser for the subset of the PO format that ``makemessages``
writes, and ``gettext.GNUTranslations`` to read the compiled catalogs.
"""

import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

TRANSLATED_LANGUAGES = ["ja", "ko"]
ALL_LANGUAGES = ["ja", "ko", "en"]
DOMAIN = "django"

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
_ESCAPE_RE = re.compile(r"\\(.)")
_KEYWORD_RE = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")\s*$')
_PLACEHOLDER_RE = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")


@dataclass
class Entry:
    line: int
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        where = self.references[0] if self.references else f"line {self.line}"
        context = f"[{self.msgctxt}] " if self.msgctxt is not None else ""
        return f"{context}{self.msgid!r} ({where})"


def _unquote(literal: str, path: Path, lineno: int) -> str:
    if len(literal) < 2 or literal[0] != '"' or literal[-1] != '"':
        raise ValueError(f"{path}:{lineno}: not a quoted string: {literal}")

    def replace(match: re.Match) -> str:
        char = match.group(1)
        if char not in _ESCAPES:
            raise ValueError(f"{path}:{lineno}: unsupported escape \\{char}")
        return _ESCAPES[char]

    return _ESCAPE_RE.sub(replace, literal[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """Entries of a PO file, header included (its msgid is ""); obsolete (#~) entries are skipped."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int | None] | None = None  # the keyword continuation lines extend

    def finish():
        nonlocal entry, target
        if entry is not None and target is not None:
            entries.append(entry)
        entry, target = None, None

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#"):
            if target is not None and target[0].startswith("msgstr"):
                finish()  # a comment after a msgstr starts the next entry
            if entry is None:
                entry = Entry(line=lineno)
            if line.startswith("#,"):
                entry.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
            elif line.startswith("#:"):
                entry.references.extend(line[2:].split())
            continue
        match = _KEYWORD_RE.match(line)
        if match:
            keyword, index, literal = match.groups()
            if keyword in ("msgctxt", "msgid") and target is not None and target[0].startswith("msgstr"):
                finish()  # a new entry without a blank line before it
            if entry is None:
                entry = Entry(line=lineno)
            value = _unquote(literal, path, lineno)
            if keyword == "msgstr":
                target = ("msgstr", 0)
                entry.msgstr[0] = value
            elif keyword.startswith("msgstr["):
                target = ("msgstr", int(index))
                entry.msgstr[int(index)] = value
            else:
                target = (keyword, None)
                setattr(entry, keyword, value)
            continue
        if line.startswith('"') and entry is not None and target is not None:
            value = _unquote(line, path, lineno)
            keyword, index = target
            if keyword == "msgstr":
                entry.msgstr[index] += value
            else:
                setattr(entry, keyword, getattr(entry, keyword) + value)
            continue
        raise ValueError(f"{path}:{lineno}: cannot parse: {raw}")
    finish()
    return entries


def _locale_dir() -> Path:
    return Path(settings.LOCALE_PATHS[0])


def _po_path(language: str) -> Path:
    return _locale_dir() / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _mo_path(language: str) -> Path:
    return _locale_dir() / language / "LC_MESSAGES" / f"{DOMAIN}.mo"


def _messages(language: str) -> list[Entry]:
    return [entry for entry in parse_po(_po_path(language)) if entry.msgid != ""]


def _header(language: str) -> Entry:
    headers = [entry for entry in parse_po(_po_path(language)) if entry.msgid == ""]
    assert len(headers) == 1, f"{_po_path(language)}: expected one header entry, found {len(headers)}"
    return headers[0]


def _nplurals(header: Entry) -> int:
    match = re.search(r"nplurals\s*=\s*(\d+)", header.msgstr.get(0, ""))
    return int(match.group(1)) if match else 2


def _report(title: str, problems: list[str]) -> str:
    return f"{title} ({len(problems)}):\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("language", ALL_LANGUAGES)
def test_catalog_exists_and_is_compiled(language):
    assert _po_path(language).is_file(), f"missing catalog {_po_path(language)}; run makemessages"
    assert _mo_path(language).is_file(), f"missing compiled catalog {_mo_path(language)}; run compilemessages"
    assert _messages(language), f"{_po_path(language)} has no entries"


def test_catalogs_hold_the_same_messages():
    keys = {lang: {(e.msgctxt, e.msgid, e.msgid_plural) for e in _messages(lang)} for lang in ALL_LANGUAGES}
    problems = []
    for language in ALL_LANGUAGES[1:]:
        for key in sorted(keys[ALL_LANGUAGES[0]] ^ keys[language], key=repr):
            side = ALL_LANGUAGES[0] if key in keys[ALL_LANGUAGES[0]] else language
            problems.append(f"{key[1]!r} only in {side}")
    assert not problems, _report("catalogs differ; run makemessages for every language", problems)


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_header_is_not_fuzzy_and_names_the_language(language):
    header = _header(language)
    assert "fuzzy" not in header.flags, f"{_po_path(language)}: the header is marked fuzzy"
    assert re.search(rf"^Language: {language}$", header.msgstr[0], re.M), (
        f"{_po_path(language)}: the header's Language is not {language!r}"
    )


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_entry_is_translated(language):
    nplurals = _nplurals(_header(language))
    problems = []
    for entry in _messages(language):
        expected = range(nplurals) if entry.msgid_plural is not None else range(1)
        empty = [i for i in expected if not entry.msgstr.get(i, "").strip()]
        if empty:
            forms = f" (plural forms {empty})" if entry.msgid_plural is not None else ""
            problems.append(f"{entry.label}{forms}")
    assert not problems, _report(f"untranslated entries in {_po_path(language)}", problems)


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_no_entry_is_fuzzy(language):
    problems = [entry.label for entry in _messages(language) if "fuzzy" in entry.flags]
    assert not problems, _report(
        f"fuzzy entries in {_po_path(language)} (check, then remove the flag and any #| lines)", problems
    )


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_translations_keep_the_placeholders(language):
    problems = []
    for entry in _messages(language):
        if "python-format" not in entry.flags:
            continue
        sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural is not None else [])
        wanted = {p for p in _PLACEHOLDER_RE.findall(" ".join(sources)) if p != "%%"}
        for index, text in entry.msgstr.items():
            found = {p for p in _PLACEHOLDER_RE.findall(text) if p != "%%"}
            if text and found != wanted:
                problems.append(f"{entry.label} msgstr[{index}]: has {sorted(found)}, needs {sorted(wanted)}")
    assert not problems, _report(f"placeholders changed in {_po_path(language)}", problems)


def _expected_mo_catalog(language: str) -> dict:
    """What msgfmt puts in the .mo: every translated, non-fuzzy entry, keyed as GNUTranslations keys it."""
    expected = {}
    for entry in _messages(language):
        if "fuzzy" in entry.flags or not any(entry.msgstr.values()):
            continue
        msgid = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            expected[msgid] = entry.msgstr[0]
        else:
            for index, text in entry.msgstr.items():
                expected[(msgid, index)] = text
    return expected


@pytest.mark.parametrize("language", ALL_LANGUAGES)
def test_compiled_catalog_matches_the_po_file(language):
    with _mo_path(language).open("rb") as fp:
        compiled = gettext.GNUTranslations(fp)
    catalog = {key: value for key, value in compiled._catalog.items() if key != ""}
    expected = _expected_mo_catalog(language)
    problems = []
    for key in sorted(expected.keys() | catalog.keys(), key=repr):
        label = key if isinstance(key, str) else f"{key[0]} [plural {key[1]}]"
        if key not in catalog:
            problems.append(f"{label!r}: in the .po, missing from the .mo")
        elif key not in expected:
            problems.append(f"{label!r}: in the .mo, not (or no longer) translated in the .po")
        elif catalog[key] != expected[key]:
            problems.append(f"{label!r}: .mo has {catalog[key]!r}, .po has {expected[key]!r}")
    assert not problems, _report(
        f"{_mo_path(language)} is stale; run manage.py compilemessages --ignore '.venv/*'", problems
    )
