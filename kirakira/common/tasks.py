"""Every project task is declared with :func:`task` from here, never with django_tasks' bare
``@task``; and the task table's finished rows are pruned here.

Threat model. The task table (``django_tasks_db``'s ``DBTaskResult``) and the worker's log are
declared free of personal data, yet both receive whatever a task hands them:

- its arguments, stored as they are in ``args_kwargs`` until the row is deleted;
- the text of the exception a failed task raised: ``set_failed`` stores
  ``traceback.format_exception(exc)`` in ``traceback`` and the class in
  ``exception_class_path``, and django_tasks' ``task_finished`` receiver logs the same traceback
  with ``logger.exception`` (the ImmediateBackend does both too, on the result object and in the
  log). Exceptions routinely quote the values they refused: smtplib's ``SMTPRecipientsRefused``
  carries each refused address with the server's answer, which usually repeats it.

So a task declared here is a :class:`GuardedTask`:

- enqueueing refuses any argument that is not an int, a UUID (or its text) or a short lowercase
  code, and a code outside a parameter's ``Literal[...]`` set, before anything is stored;
- a failure is raised again as a :class:`TaskFailed` whose text is the original exception's
  class and the code it went through (file, line, function) and nothing the exception said. It
  is raised outside the ``except`` block and ``from None``, so the original is neither its
  ``__cause__`` nor its ``__context__``: no traceback printer or error tracker can reach it.
  Its class is a subclass of :class:`TaskFailed` named after the original (module and qualified
  name), so the stored ``exception_class_path`` still reads ``smtplib.SMTPRecipientsRefused``
  and ``TaskError.exception_class`` resolves to the real class: a retry policy can still tell a
  mail server's refusal from a database error.

Finished rows (successful or failed) are kept ``TASK_RESULT_RETENTION_DAYS`` days after they
finish and then deleted by :func:`task_results_prune` (``manage.py prune_task_results``).

Delivery: a task may run twice. A worker killed mid-task, or one that lost its database
connection before it could record the result, leaves the task to be run again
(``kirakira/common/worker.py``). So a task's effects must be safe to repeat, and an email is
sent through :func:`email_send_once`. And a task is queued in the transaction of the write it
follows (:func:`enqueue_in_transaction`): the order and its email task are stored together or
not at all.
"""

import inspect
import re
import traceback
import uuid
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

from django.conf import settings
from django.db import IntegrityError, transaction
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME
from django_tasks.base import DEFAULT_TASK_PRIORITY, Task

from . import clock, request_id

# A code names one of a closed set of things (an email kind); it starts with a letter so that
# a phone number typed as text is refused rather than taken for a code.
CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")
PRUNE_CHUNK = 1000


class TaskArgumentRefused(ValueError):
    """An argument that is not an ID or a code. The message names the parameter, never the value."""


class TaskFailed(Exception):
    """A task's failure with the exception's text withheld; see the module's docstring.

    ``original_class`` is the class of the exception the task raised.
    """

    original_class: type[BaseException] = Exception


_failure_classes: dict[type[BaseException], type[TaskFailed]] = {}


def failure_class(original: type[BaseException]) -> type[TaskFailed]:
    """The :class:`TaskFailed` subclass that stands for ``original`` (one per class)."""
    cls = _failure_classes.get(original)
    if cls is None:
        cls = type(
            original.__name__,
            (TaskFailed,),
            {
                "__module__": original.__module__,
                "__qualname__": original.__qualname__,
                "original_class": original,
                "__doc__": f"{TaskFailed.__doc__}\n\nStands for {original.__module__}.{original.__qualname__}.",
            },
        )
        _failure_classes[original] = cls
    return cls


def _class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _short_path(filename: str) -> str:
    try:
        return str(Path(filename).relative_to(settings.BASE_DIR))
    except ValueError:
        return filename


def sanitized(exc: BaseException) -> TaskFailed:
    """A :class:`TaskFailed` naming ``exc``'s class and frames, never its message or arguments."""
    if isinstance(exc, TaskFailed):
        return exc  # already withheld: a task that ran another one in-line
    lines = [f"{_class_path(type(exc))} (its text is withheld: it may quote personal data), raised at:"]
    # lookup_lines=False, capture_locals=False: file, line number and function name only.
    frames = traceback.StackSummary.extract(traceback.walk_tb(exc.__traceback__), lookup_lines=False)
    lines += [f'  File "{_short_path(f.filename)}", line {f.lineno}, in {f.name}' for f in frames]
    # The chain tells "a socket error during SMTP" from "an SMTP refusal": classes only.
    seen, link = {id(exc)}, exc
    while True:
        link = link.__cause__ or (None if link.__suppress_context__ else link.__context__)
        if link is None or id(link) in seen:
            break
        seen.add(id(link))
        lines.append(f"while handling {_class_path(type(link))}")
    return failure_class(type(exc))("\n".join(lines))


@cache
def _parameters(func) -> tuple[inspect.Signature, dict[str, tuple[Any, ...]]]:
    """The task's signature and, per parameter typed ``Literal[...]``, its allowed codes."""
    signature = inspect.signature(func)
    hints = get_type_hints(func)
    codes = {name: get_args(hint) for name, hint in hints.items() if get_origin(hint) is Literal}
    return signature, codes


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def checked_argument(task_name: str, name: str, value: Any, codes: tuple[Any, ...] | None = None) -> Any:
    """``value`` as it may be stored (a UUID becomes its text), or :class:`TaskArgumentRefused`."""
    if codes is not None:
        if value not in codes:
            raise TaskArgumentRefused(
                f"{task_name}: argument {name!r} must be one of {', '.join(map(str, codes))}."
            )
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    # Free words are refused: a login ID ("yamada_hanako") is a lowercase word too. A code is
    # taken only where the parameter names its closed set (Literal[...], handled above).
    if isinstance(value, str) and _is_uuid(value):
        return value
    raise TaskArgumentRefused(
        f"{task_name}: argument {name!r} is not an ID (an int or a UUID); only a parameter typed "
        "Literal[...] takes a code. Task arguments are stored as they are, so they may never carry "
        "personal data."
    )


# The keyword that carries the ID of the request that queued a task (kirakira/common/request_id.py),
# so that the worker's log lines of the task carry it too. Stored with the arguments: it is a random
# ID, checked against the same pattern as the incoming header, never personal data; the task's
# function never sees it.
REQUEST_ID_KWARG = "_request_id"


class GuardedTask(Task):
    """A django_tasks ``Task`` that refuses non-ID arguments and withholds failures' text."""

    __slots__ = ()

    def _checked(self, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        kwargs = dict(kwargs)
        queued_by = kwargs.pop(REQUEST_ID_KWARG, None)  # set by an earlier check (enqueue_in_transaction)
        if queued_by is None:
            queued_by = request_id.current()
        args, kwargs = self._checked_arguments(args, kwargs)
        if request_id.is_well_formed(queued_by):
            kwargs[REQUEST_ID_KWARG] = queued_by
        return args, kwargs

    def _checked_arguments(self, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        signature, codes = _parameters(self.func)
        if self.takes_context:
            signature = signature.replace(parameters=list(signature.parameters.values())[1:])
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            # bind()'s messages name parameters only ("missing a required argument: 'kind'").
            raise TaskArgumentRefused(f"{self.name}: {exc}") from None
        for name, value in bound.arguments.items():
            bound.arguments[name] = checked_argument(self.name, name, value, codes.get(name))
        return bound.args, bound.kwargs

    # Bound while queued too: a backend that runs the task at once (or logs the queuing) writes its
    # lines with the ID, also when the queuing was deferred to after the request's commit.
    def enqueue(self, *args, **kwargs):
        args, kwargs = self._checked(args, kwargs)
        with request_id.bound(kwargs.get(REQUEST_ID_KWARG)):
            return super().enqueue(*args, **kwargs)

    async def aenqueue(self, *args, **kwargs):
        args, kwargs = self._checked(args, kwargs)
        with request_id.bound(kwargs.get(REQUEST_ID_KWARG)):
            return await super().aenqueue(*args, **kwargs)

    # Both backends (the ImmediateBackend and the worker, run_worker) run a task through call()/acall().
    def call(self, *args, **kwargs):
        with request_id.bound(kwargs.pop(REQUEST_ID_KWARG, None)):
            try:
                return super().call(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - every failure is rewritten, none swallowed
                failure = sanitized(exc)
            raise failure from None

    async def acall(self, *args, **kwargs):
        with request_id.bound(kwargs.pop(REQUEST_ID_KWARG, None)):
            try:
                return await super().acall(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - every failure is rewritten, none swallowed
                failure = sanitized(exc)
            raise failure from None


def task(
    *,
    priority: int = DEFAULT_TASK_PRIORITY,
    queue_name: str = DEFAULT_TASK_QUEUE_NAME,
    backend: str = DEFAULT_TASK_BACKEND_ALIAS,
):
    """Declare a project task (django_tasks' ``@task()``, as a :class:`GuardedTask`).

    Parameters are IDs (named ``*_id``: a UUID's text or an int) or codes typed
    ``Literal[...]``; ``kirakira/common/tests/test_task_privacy.py`` holds every task to that.
    """

    def wrap(func) -> GuardedTask:
        return GuardedTask(
            func=func,
            priority=priority,
            queue_name=queue_name,
            backend=backend,
            takes_context=False,
            run_after=None,
        )

    return wrap


def enqueue_in_transaction(task: Task, /, *args, **kwargs) -> None:
    """Queue ``task`` as part of the caller's transaction, so that the write it follows and the
    task are stored together or not at all. Call it inside the ``transaction.atomic()`` block
    that holds the write.

    - With the database backend (``django_tasks_db``, what the site runs), the task row is
      inserted at once, on the same connection: it commits or rolls back with the write. Queuing
      after the commit instead once answered a member's committed order with an error, and
      their email was never sent.
    - A backend that does not store tasks runs them in-process (the ImmediateBackend of the
      tests, a site configured without a worker): running the task inside the transaction would
      send an email about a write that may still roll back, so it is deferred to
      ``transaction.on_commit``. Its arguments are checked now all the same, so a refused
      argument rolls the write back in both cases.
    """
    from django_tasks_db.backend import DatabaseBackend  # not at the top: tasks modules load early

    if isinstance(task, GuardedTask):
        args, kwargs = task._checked(args, kwargs)
    if isinstance(task.get_backend(), DatabaseBackend):
        task.enqueue(*args, **kwargs)
    else:
        transaction.on_commit(lambda: task.enqueue(*args, **kwargs))


def email_send_once(*, kind: str, ids: tuple, send) -> bool:
    """Call ``send()`` unless the email ``kind`` about ``ids`` was sent before; True if sent now.

    ``kind`` is a code ("orders.order_placed") and ``ids`` the IDs (ints, UUIDs) that make one
    logical email of that kind; together they key a row of the delivery ledger
    (:class:`kirakira.common.models.EmailDelivery`), which is why they may only be IDs.

    The row is inserted, the email sent and the row committed in one transaction:

    - a send that raises rolls the row back, so a retry of the task sends;
    - a second worker running the same task at the same time waits on the row's unique key
      (PostgreSQL) or on the write lock (SQLite) until the first commits, then sends nothing;
    - a worker killed before its commit leaves no row: the retry sends.

    What remains is the moment between the mail server's "250 accepted" and the commit: a
    worker killed, or its database connection lost, in that moment has sent an email that
    the ledger does not know about, and the retry sends it a second time. No protocol closes it
    without the mail server's help; this one makes it as short as the SMTP conversation. (On
    SQLite, where every write transaction takes the database's write lock, the lock is held for
    that conversation: the site's other writes wait for it, at most ``EMAIL_TIMEOUT``.)
    """
    from .models import EmailDelivery  # not at the top: tasks modules load early

    if not CODE.fullmatch(kind.replace(".", "_")):
        raise ValueError("an email kind is a code such as 'orders.order_placed'")
    key = ":".join(str(checked_argument(kind, "ids", value)) for value in ids)
    with transaction.atomic():
        try:
            with transaction.atomic():
                EmailDelivery.objects.create(kind=kind, key=key, sent_at=clock.now())
        except IntegrityError:
            return False  # sent already: the row is committed
        send()
    return True


def task_results_prune() -> int:
    """Delete the task rows that finished (successfully or not) more than
    ``TASK_RESULT_RETENTION_DAYS`` days ago; return how many. Rows waiting or running are kept:
    they are work still to do. Deletes in chunks, each in its own transaction, so a large
    backlog never holds a long lock on the table the workers poll.

    The delivery ledger's rows of the same age go too: a ledger row matters while its task
    may still run again, which is seconds after it was written, not days."""
    from django_tasks_db.models import DBTaskResult  # not at the top: tasks modules load early

    from .models import EmailDelivery

    days = settings.TASK_RESULT_RETENTION_DAYS
    if days < 0:
        raise ValueError("TASK_RESULT_RETENTION_DAYS must be 0 or more.")
    cutoff = clock.now() - timedelta(days=days)
    _prune(EmailDelivery, EmailDelivery.objects.filter(sent_at__lt=cutoff))
    return _prune(DBTaskResult, DBTaskResult.objects.finished().filter(finished_at__lt=cutoff))


def _prune(model, expired) -> int:
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(expired.order_by().values_list("pk", flat=True)[:PRUNE_CHUNK])
            if not ids:
                return deleted
            count, _ = model.objects.filter(pk__in=ids).delete()
            deleted += count
