"""The test suite's watch for personal data where the catalog promises none: the logs and the
task table.

While a test runs (the autouse fixture in the root ``conftest.py``), a :class:`Capture`

- remembers the email addresses, phone numbers, names and SNS IDs of the rows saved during the
  test: every field the privacy catalog declares with one of those items (so a new model's
  fields are watched as soon as they are declared), read from the instance as saved;
- records every log record of every logger at every level, whether or not it propagates: for
  the test, ``Logger.isEnabledFor`` says yes to every level, so that every record is made, and
  ``Logger.handle`` hands each record to the capture's handler first, then to the logger's own
  handlers only if the logger's level (as configured, or as the test sets it, e.g. with
  ``caplog.set_level``) lets it through. Lowering levels and filtering the handlers instead
  would miss the handlers added later (pytest adds its own at each test phase), so what the
  console and pytest's report print would change;
- records what is written to the task table (``DBTaskResult`` rows, through ``post_save``) and
  what django_tasks hands to its signals (arguments and errors of results run at once by the
  ImmediateBackend, which never writes a row);

and :meth:`Capture.leaks` lists every recorded text that contains one of the remembered values.
The test tools' own loggers are not watched: they handle the test data by design and never run
in production (see :data:`TEST_TOOL_LOGGERS`).
"""

import json
import logging
import re
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

from django.apps import apps
from django.db.models.signals import post_save

# factory_boy logs each object it builds, with the values; aiosmtpd (the test SMTP server of
# kirakira/common/smtp_testing.py) logs each envelope it receives: the recipient's side.
TEST_TOOL_LOGGERS = ("factory", "faker", "mail.log")

# Shorter values ("Ann", "1234") would match unrelated text; they are not watched.
MIN_LENGTH = 4


@dataclass
class PersonalValues:
    """Values to look for, each with where it came from ("accounts.User.email")."""

    _needles: dict[str, str] = field(default_factory=dict)  # casefolded form -> label
    _patterns: dict[str, re.Pattern] = field(default_factory=dict)

    def add(self, value, label: str) -> None:
        # Only plain text: a sealed (still encrypted) or erased value is not a value to look for.
        if type(value) is not str:
            return
        value = value.strip()
        if len(value) < MIN_LENGTH:
            return
        forms = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
        if not value.isascii():
            forms.add(repr(value.encode())[2:-1])  # as a bytes repr shows it: b'\xe4...'
        digits = "".join(c for c in value if c.isdigit())
        if len(digits) >= 7 and len(digits) >= len(value) - 4:  # a phone number, written without dashes
            forms.add(digits)
        for form in forms:
            needle = form.casefold()
            if needle not in self._needles:
                self._needles[needle] = label
                self._patterns[needle] = _bounded(needle)

    def __bool__(self) -> bool:
        return bool(self._needles)

    def found_in(self, text: str) -> list[str]:
        """The labels of the values that ``text`` contains (case-insensitively)."""
        folded = text.casefold()
        return sorted(
            {
                label
                for needle, label in self._needles.items()
                if needle in folded and self._patterns[needle].search(folded)
            }
        )


def _bounded(needle: str) -> re.Pattern:
    """``needle`` not inside a longer word: the SNS ID "kira" is not in "kirakira.orders", nor a
    short name inside a random token. (No boundary next to a non-ASCII character: Japanese is
    written without spaces.)"""
    before = r"(?<![0-9a-z])" if needle[0] in _WORD else ""
    after = r"(?![0-9a-z])" if needle[-1] in _WORD else ""
    return re.compile(before + re.escape(needle) + after)


_WORD = frozenset("0123456789abcdefghijklmnopqrstuvwxyz")


def find_personal_data(texts: list[tuple[str, str]], values: PersonalValues) -> list[str]:
    """One line per ``(where, text)`` that holds a watched value: the checker of the fixture."""
    return [
        f"{where} holds the {label} of a test member"
        for where, text in texts
        for label in values.found_in(text)
    ]


def watched_fields() -> list[tuple[type, str, str]]:
    """``(model, attname, label)`` of every catalog field holding an email, phone, name or SNS ID."""
    from kirakira.privacy.catalog import Item, catalog
    from kirakira.privacy.catalog.vocabulary import Protection

    out = []
    for item in (Item.EMAIL, Item.PHONE, Item.NAME, Item.SNS_ACCOUNT_ID):
        for entry in catalog.by_item(item):
            if entry.field == "*" or entry.protection == Protection.ONE_WAY:
                continue  # whole-record logs and keyed hashes: no plaintext to look for
            model = apps.get_model(entry.model_label)
            attname = model._meta.get_field(entry.field).attname
            out.append((model, attname, f"{item.value} ({entry.model_label}.{entry.field})"))
    return out


class _Recorder(logging.Handler):
    def __init__(self, texts: list[tuple[str, str]]):
        super().__init__(logging.DEBUG)
        self.texts = texts
        self._formatter = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.partition(".")[0] in TEST_TOOL_LOGGERS or record.name in TEST_TOOL_LOGGERS:
            return
        try:
            parts = [record.getMessage()]
        except Exception:  # noqa: BLE001 - a malformed record is the logging module's to report
            parts = [str(record.msg), repr(record.args)]
        if record.exc_info:
            parts.append(self._formatter.formatException(record.exc_info))
        elif record.exc_text:
            parts.append(record.exc_text)
        if record.stack_info:
            parts.append(record.stack_info)
        self.texts.append((f"log record of {record.name!r} ({record.levelname})", "\n".join(parts)))


class Capture:
    def __init__(self):
        self.values = PersonalValues()
        self.texts: list[tuple[str, str]] = []
        self._undo: list = []

    # --- what is recorded ----------------------------------------------------------------------
    def _remember(self, sender, instance, **kwargs) -> None:
        for attname, label in self._fields.get(sender, ()):
            self.values.add(instance.__dict__.get(attname), label)

    def _task_row(self, sender, instance, **kwargs) -> None:
        where = f"task row {instance.task_path} ({instance.status})"
        for column in ("args_kwargs", "return_value"):
            self.texts.append((f"{where}, {column}", json.dumps(getattr(instance, column), ensure_ascii=False)))
        for column in ("exception_class_path", "traceback"):
            self.texts.append((f"{where}, {column}", getattr(instance, column) or ""))

    def _task_result(self, sender, task_result, **kwargs) -> None:
        where = f"task result {task_result.task.module_path} ({task_result.status})"
        arguments = {"args": task_result.args, "kwargs": task_result.kwargs}
        self.texts.append((f"{where}, arguments", json.dumps(arguments, ensure_ascii=False, default=str)))
        for error in task_result.errors:
            self.texts.append((f"{where}, error", f"{error.exception_class_path}\n{error.traceback}"))

    # --- installing and removing ---------------------------------------------------------------
    def start(self) -> None:
        from django_tasks.signals import task_enqueued, task_finished
        from django_tasks_db.models import DBTaskResult

        self._fields: dict[type, list] = {}
        for model, attname, label in watched_fields():
            self._fields.setdefault(model, []).append((attname, label))
        for model in self._fields:
            post_save.connect(self._remember, sender=model, weak=False)
            self._undo.append(lambda m=model: post_save.disconnect(self._remember, sender=m))
        post_save.connect(self._task_row, sender=DBTaskResult, weak=False)
        self._undo.append(lambda: post_save.disconnect(self._task_row, sender=DBTaskResult))
        for signal in (task_enqueued, task_finished):
            signal.connect(self._task_result, weak=False)
            self._undo.append(lambda s=signal: s.disconnect(self._task_result))
        self._start_logging()

    def _start_logging(self) -> None:
        recorder = _Recorder(self.texts)
        enabled, handle = logging.Logger.isEnabledFor, logging.Logger.handle

        def every_level(logger, level):
            return not logger.disabled and logger.manager.disable < level  # logging.disable() still holds

        def recorded_then_handled(logger, record):
            recorder.handle(record)
            if enabled(logger, record.levelno):
                handle(logger, record)

        logging.Logger.isEnabledFor = every_level
        logging.Logger.handle = recorded_then_handled

        def undo():
            logging.Logger.isEnabledFor, logging.Logger.handle = enabled, handle

        self._undo.append(undo)

    def stop(self) -> None:
        while self._undo:
            self._undo.pop()()

    def leaks(self) -> list[str]:
        return find_personal_data(self.texts, self.values)
