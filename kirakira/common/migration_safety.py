"""Which migrations would hold the big tables for long on PostgreSQL (issue 15).

The usage log (``usage.UsageRecord``) and the staff access log (``privacy.StaffAccessRecord``
and its ``StaffAccessSubject`` rows) grow with traffic and are kept six months and two years. On
PostgreSQL an ``ALTER TABLE`` takes ACCESS EXCLUSIVE (no reads, no writes) and a plain
``CREATE INDEX`` blocks writes; that is harmless while the statement costs nothing, and an outage
when it rewrites or scans every row. Every request of a logged-in member inserts a usage row
and waits for it, so a migration that holds that table for minutes holds the site for minutes.

``check_project`` walks every migration of the project in order, keeps Django's model state as
it goes, and looks at each operation that reaches one of those tables:

- by the operation and its fields, the same on any database: what PostgreSQL would have to do
  for it (rewrite, scan every row, build an index with writes blocked);
- on PostgreSQL, also by the SQL the schema editor would run for it (``collect_sql``): any
  statement the first look did not expect (a custom operation, a field type that brings a
  CHECK) is reported too, with the statement.

``RunSQL`` and ``RunPython`` cannot be judged from outside: one whose SQL, or whose code's
module, names one of the tables or models is reported, and accepted only through ``ALLOWED``,
after review, with a reason. Code that reaches the tables without naming them (through another
module) is not seen: reviewers still read data migrations.

The partitioned tables have limits of their own that the advice follows: PostgreSQL cannot build
an index ``CONCURRENTLY`` on a partitioned table, nor add a foreign key ``NOT VALID`` to one.
"""

import functools
import inspect
import re
from dataclasses import dataclass, field

from django.contrib.postgres.operations import (
    AddConstraintNotValid,
    AddIndexConcurrently,
    NotInTransactionMixin,
    ValidateConstraint,
)
from django.db import models
from django.db.migrations import operations as ops
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.models import ModelOperation
from django.db.migrations.state import ProjectState
from django.db.models.functions import Now


@dataclass(frozen=True)
class BigTable:
    app_label: str
    model_name: str  # lower case, as in migrations
    db_table: str
    object_name: str
    partitioned_by: tuple[str, str] | None  # the migration that partitions it on PostgreSQL

    @property
    def label(self) -> str:
        return f"{self.app_label}.{self.object_name}"


BIG_TABLES = (
    BigTable(
        "usage", "usagerecord", "usage_usagerecord", "UsageRecord", ("usage", "0002_partition_by_month")
    ),
    BigTable(
        "privacy",
        "staffaccessrecord",
        "privacy_staffaccessrecord",
        "StaffAccessRecord",
        ("privacy", "0009_partition_access_log"),
    ),
    BigTable("privacy", "staffaccesssubject", "privacy_staffaccesssubject", "StaffAccessSubject", None),
)


@dataclass(frozen=True)
class Allowed:
    """A migration (or one operation of it, by its index) reviewed and accepted as it is."""

    app_label: str
    migration: str
    reason: str
    operation: int | None = None


# Migrations are never edited once released, so a whole migration may be accepted. A new one on
# the big tables names the operation it needs accepted, so that the rest of it is still checked.
ALLOWED = (
    Allowed(
        "usage",
        "0001_initial",
        "Creates the usage log: a new table holds no rows, so its indexes cost nothing.",
    ),
    Allowed(
        "usage",
        "0002_partition_by_month",
        "Copies the whole usage log into a partitioned table, holding it throughout: not cheap, "
        "but it ran once, when its release was installed, and a released migration is not changed.",
    ),
    Allowed(
        "privacy",
        "0006_staff_access_log",
        "Creates the staff access log: the index and the unique constraint are on tables made "
        "in the same migration, still empty.",
    ),
    Allowed(
        "privacy",
        "0009_partition_access_log",
        "Copies the whole staff access log into a partitioned table, holding it throughout: not "
        "cheap, but it ran once, when its release was installed, and a released migration is not changed.",
    ),
)


@dataclass(frozen=True)
class Finding:
    app_label: str
    migration: str
    operation: str  # its position (``2``, or ``2.1`` inside SeparateDatabaseAndState)
    description: str  # the operation's class and what it does
    table: str  # the model's label, or what could not be told
    problem: str
    advice: str
    sql: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = (
            f"{self.app_label}.{self.migration}, operation {self.operation} ({self.description}) "
            f"on {self.table}: {self.problem}. Instead: {self.advice}."
        )
        if self.sql:
            text += " PostgreSQL SQL: " + " ".join(self.sql)
        return text

    def allowance(self) -> Allowed | None:
        for allowed in ALLOWED:
            if (allowed.app_label, allowed.migration) != (self.app_label, self.migration):
                continue
            if allowed.operation is None or self.operation.split(".")[0] == str(allowed.operation):
                return allowed
        return None


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)  # not allowed: each one is a failure
    allowed: list[Finding] = field(default_factory=list)


# What to do instead, by case.
INDEX_ADVICE = (
    "use django.contrib.postgres.operations.AddIndexConcurrently in a migration with atomic = False "
    '(PostgreSQL only: README, "Upgrading", shows what SQLite gets instead)'
)
PARTITIONED_INDEX_ADVICE = (
    "PostgreSQL cannot build an index CONCURRENTLY on a partitioned table: in a migration with "
    "atomic = False, CREATE INDEX … ON ONLY the table (instant, not yet valid), then for each "
    "partition CREATE INDEX CONCURRENTLY and ALTER INDEX … ATTACH PARTITION (the index becomes "
    "valid once every partition's is attached), with the model's index declared in "
    "SeparateDatabaseAndState; allow-list that migration"
)
CHECK_ADVICE = (
    "add the check with django.contrib.postgres.operations.AddConstraintNotValid, then "
    "ValidateConstraint in a later migration (validating holds neither reads nor writes; "
    'PostgreSQL only: README, "Upgrading", shows what SQLite gets instead)'
)
BACKFILL_ADVICE = (
    "add the column nullable and without default, fill it in batches from a RunPython in a "
    "migration with atomic = False (allow-listed), then make it NOT NULL"
)
NOT_NULL_ADVICE = (
    "add CHECK (column IS NOT NULL) with AddConstraintNotValid, ValidateConstraint, then SET NOT "
    "NULL (PostgreSQL uses the valid check instead of scanning) and drop the check"
)
FOREIGN_KEY_ADVICE = (
    "declare it with db_constraint=False, then add the constraint with RunSQL … NOT VALID and "
    "VALIDATE CONSTRAINT in a later migration"
)
PARTITIONED_FOREIGN_KEY_ADVICE = (
    "declare it with db_constraint=False: PostgreSQL cannot add a foreign key NOT VALID to a "
    "partitioned table, nor point one at it (it has no unique key on id alone), so the code "
    "keeps the rows consistent, as it does for StaffAccessSubject.record"
)
REVIEW_ADVICE = (
    "read what it does to the table (manage.py sqlmigrate for SQL); if it holds the table only "
    "briefly, or works in batches outside a transaction, allow-list it in "
    "kirakira/common/migration_safety.py with the reason"
)


@functools.cache
def _pg():
    """A PostgreSQL connection object that never connects: enough for the column types and
    checks PostgreSQL would give a field, whatever database the checker runs against."""
    from django.db.backends.postgresql.base import DatabaseWrapper

    return DatabaseWrapper({"NAME": "", "USER": "", "PASSWORD": "", "HOST": "", "PORT": "", "OPTIONS": {}})


def _big_table(app_label: str, model_name: str | None) -> BigTable | None:
    if model_name is None:
        return None
    for table in BIG_TABLES:
        if (table.app_label, table.model_name) == (app_label, model_name.lower()):
            return table
    return None


def _model_name(operation) -> str | None:
    if hasattr(operation, "model_name_lower"):
        return operation.model_name_lower
    if getattr(operation, "model_name", None):
        return operation.model_name.lower()
    if isinstance(operation, ops.RenameModel):
        return operation.old_name_lower
    if isinstance(operation, ModelOperation):
        return operation.name_lower
    return None


def _bound(field_obj: models.Field, name: str) -> models.Field:
    bound = field_obj.clone()
    bound.set_attributes_from_name(name)
    return bound


def _db_params(field_obj: models.Field, name: str) -> tuple[str | None, str | None]:
    """PostgreSQL's column type and CHECK for the field; (None, None) for a relation, whose type
    is its target's."""
    if field_obj.is_relation:
        return None, None
    params = _bound(field_obj, name).db_parameters(connection=_pg())
    return params["type"], params["check"]


_VARCHAR = re.compile(r"^varchar\((\d+)\)$")


def _free_type_change(old: str | None, new: str | None) -> bool:
    """Changes PostgreSQL makes in its catalog only: a longer varchar, or varchar to text."""
    if old == new:
        return True
    old_length = _VARCHAR.match(old or "")
    if old_length is None:
        return False
    if new == "text":
        return True
    new_length = _VARCHAR.match(new or "")
    return new_length is not None and int(new_length[1]) >= int(old_length[1])


def _target(state: ProjectState, app_label: str, field_obj: models.Field) -> tuple[str, str] | None:
    """The (app_label, model_name) a relation points at, lower case."""
    if not field_obj.is_relation or field_obj.remote_field is None:
        return None
    to = field_obj.remote_field.model
    if isinstance(to, str):
        if to == "self":
            return None
        label = to if "." in to else f"{app_label}.{to}"
        target_app, target_model = label.split(".")
        return target_app.lower(), target_model.lower()
    return to._meta.app_label, to._meta.model_name


def _field_problems(state, app_label, table: BigTable, name: str, new, old, partitioned):
    """(problem, advice) for a column added (``old`` None) or changed on a big table."""
    if new.many_to_many:
        return []  # a table of its own
    problems = []
    new_type, new_check = _db_params(new, name)
    old_type, old_check = _db_params(old, name) if old is not None else (None, None)
    index_advice = PARTITIONED_INDEX_ADVICE if (table in partitioned) else INDEX_ADVICE

    if old is None:
        if new.generated:
            problems.append(
                (
                    "a stored generated column is computed for every row: PostgreSQL rewrites the table",
                    BACKFILL_ADVICE,
                )
            )
        elif new.has_db_default():
            if not isinstance(new.db_default, models.Value | Now):
                problems.append(
                    (
                        f"db_default={new.db_default!r} may be volatile, and PostgreSQL rewrites the "
                        "table to fill a volatile default (only a constant or Now() is known cheap)",
                        f"use a constant db_default, or {BACKFILL_ADVICE}",
                    )
                )
        elif new.default is not models.NOT_PROVIDED and callable(new.default):
            problems.append(
                (
                    f"default={getattr(new.default, '__qualname__', new.default)!r} is a callable: "
                    "Django calls it once and writes that one value into every existing row, and "
                    "giving each row its own value means rewriting every row",
                    BACKFILL_ADVICE,
                )
            )
        elif not new.null and new.default is models.NOT_PROVIDED and not new.primary_key:
            problems.append(
                (
                    "a NOT NULL column without a default cannot be added to a table that has rows",
                    f"give it a constant default (PostgreSQL stores it without rewriting), or {BACKFILL_ADVICE}",
                )
            )
    else:
        if new.primary_key != old.primary_key:
            problems.append(("changing the primary key rebuilds it over every row", REVIEW_ADVICE))
        if not _free_type_change(old_type, new_type) or getattr(old, "db_collation", None) != getattr(
            new, "db_collation", None
        ):
            problems.append(
                (
                    f"changing the column from {old_type or 'a relation'} to {new_type or 'a relation'} "
                    "makes PostgreSQL rewrite or scan the table while holding it (only a longer "
                    "varchar, or varchar to text, is free)",
                    f"add a new column, {BACKFILL_ADVICE.removeprefix('add the column ')}, and switch to it",
                )
            )
        if old.null and not new.null:
            problems.append(("SET NOT NULL scans every row while holding the table", NOT_NULL_ADVICE))

    if new_check and new_check != old_check:
        problems.append(
            (
                f"its type brings CHECK ({new_check}), which PostgreSQL verifies over every row "
                "while holding the table",
                f"use a type without a check (IntegerField for PositiveIntegerField…) and {CHECK_ADVICE}",
            )
        )
    old_unique = old is not None and old.unique and not old.primary_key
    old_indexed = old is not None and (old.db_index or old_unique)
    if new.unique and not new.primary_key and not old_unique:
        advice = index_advice + (
            "; a unique index of a partitioned table must include occurred_at"
            if (table in partitioned)
            else ""
        )
        problems.append(("unique=True builds a unique index with writes blocked for the whole build", advice))
    elif new.db_index and not new.unique and not old_indexed:
        problems.append(
            ("db_index=True builds an index with writes blocked for the whole build", index_advice)
        )
    new_target = _target(state, app_label, new) if new.is_relation else None
    old_target = _target(state, app_label, old) if old is not None and old.is_relation else None
    new_constraint = new.is_relation and new.db_constraint
    old_constraint = old is not None and old.is_relation and old.db_constraint
    if new_constraint and (not old_constraint or new_target != old_target):
        problems.append(
            (
                "adding a FOREIGN KEY makes PostgreSQL check every row, holding writes off both tables",
                PARTITIONED_FOREIGN_KEY_ADVICE if (table in partitioned) else FOREIGN_KEY_ADVICE,
            )
        )
    return problems


def _references_problems(state, app_label, field_obj, old, partitioned):
    """A relation from any model to a partitioned big table with a database constraint, where
    there was none."""
    target = _target(state, app_label, field_obj)
    table = _big_table(*target) if target else None
    if table is None or table not in partitioned or not field_obj.db_constraint:
        return []
    if old is not None and old.is_relation and old.db_constraint and _target(state, app_label, old) == target:
        return []
    return [
        (
            table,
            f"a FOREIGN KEY to {table.db_table} fails on PostgreSQL: the partitioned table has no "
            "unique key on id alone",
            PARTITIONED_FOREIGN_KEY_ADVICE,
        )
    ]


def _referenced_by_big_tables(state, app_label, model_name, field_name):
    """The big tables whose foreign keys point at this field: Django changes their column too
    when its type changes."""
    found = []
    for table in BIG_TABLES:
        model_state = state.models.get((table.app_label, table.model_name))
        if model_state is None:
            continue
        for fk in model_state.fields.values():
            if _target(state, table.app_label, fk) != (app_label, model_name):
                continue
            to_field = fk.remote_field.field_name
            if to_field is None:
                target_state = state.models[(app_label, model_name)]
                to_field = next(n for n, f in target_state.fields.items() if f.primary_key)
            if to_field == field_name:
                found.append(table)
    return found


def _text_names(table: BigTable) -> list[re.Pattern]:
    return [
        re.compile(re.escape(table.db_table), re.IGNORECASE),  # and its partitions
        re.compile(rf"\b{table.object_name}\b"),
        re.compile(rf"\b{table.app_label}\.{table.model_name}\b", re.IGNORECASE),
        re.compile(rf"[\"']{table.model_name}[\"']", re.IGNORECASE),
    ]


def _tables_named(text: str) -> list[BigTable]:
    return [table for table in BIG_TABLES if any(p.search(text) for p in _text_names(table))]


def _sql_text(sql) -> str:
    if sql is None or sql is ops.RunSQL.noop:
        return ""
    if isinstance(sql, str):
        return sql
    return "\n".join(item if isinstance(item, str) else str(item[0]) for item in sql)


def _code_text(code) -> str | None:
    """The source of the module that holds the function: a migration's functions use the
    module's constants for table names. None when it cannot be read."""
    if code is None or code is ops.RunPython.noop:
        return ""
    while hasattr(code, "func"):  # functools.partial
        code = code.func
    module = inspect.getmodule(inspect.unwrap(code))
    try:
        return inspect.getsource(module) if module is not None else None
    except (OSError, TypeError):
        return None


def _operation_problems(operation, app_label, state, partitioned):
    """[(BigTable or None, problem, advice)] for one operation, the state being the one before
    it."""
    model_name = _model_name(operation)
    table = _big_table(app_label, model_name)

    if isinstance(operation, ops.RunSQL):
        text = _sql_text(operation.sql) + "\n" + _sql_text(operation.reverse_sql)
        return [
            (named, f"its SQL names {named.db_table}, which this checker cannot judge", REVIEW_ADVICE)
            for named in _tables_named(text)
        ]
    if isinstance(operation, ops.RunPython):
        texts = [_code_text(operation.code), _code_text(operation.reverse_code)]
        if None in texts:
            return [
                (None, "its code cannot be read to tell whether it touches the big tables", REVIEW_ADVICE)
            ]
        return [
            (named, f"its code names {named.label}, which this checker cannot judge", REVIEW_ADVICE)
            for named in _tables_named("\n".join(texts))
        ]

    problems = []
    # Fields of any model that point at a partitioned big table, or that one points at.
    if isinstance(operation, ops.CreateModel):
        for _name, field_obj in operation.fields:
            problems += _references_problems(state, app_label, field_obj, None, partitioned)
    elif isinstance(operation, ops.AddField):
        problems += _references_problems(state, app_label, operation.field, None, partitioned)
    if isinstance(operation, ops.AlterField) and (app_label, model_name) in state.models:
        old = state.models[(app_label, model_name)].fields.get(operation.name)
        problems += _references_problems(state, app_label, operation.field, old, partitioned)
        if old is not None and not old.is_relation and not operation.field.is_relation:
            if not _free_type_change(
                _db_params(old, operation.name)[0], _db_params(operation.field, operation.name)[0]
            ):
                for referring in _referenced_by_big_tables(state, app_label, model_name, operation.name):
                    problems.append(
                        (
                            referring,
                            f"changing the type of {app_label}.{model_name}.{operation.name} changes "
                            f"the column of {referring.db_table} that refers to it, rewriting that table",
                            REVIEW_ADVICE,
                        )
                    )
    if table is None:
        return problems
    index_advice = PARTITIONED_INDEX_ADVICE if (table in partitioned) else INDEX_ADVICE

    def on_table(problem, advice):
        problems.append((table, problem, advice))

    if isinstance(operation, ops.AddField):
        for problem, advice in _field_problems(
            state, app_label, table, operation.name, operation.field, None, partitioned
        ):
            on_table(problem, advice)
    elif isinstance(operation, ops.AlterField):
        old = state.models[(app_label, model_name)].fields[operation.name]
        for problem, advice in _field_problems(
            state, app_label, table, operation.name, operation.field, old, partitioned
        ):
            on_table(problem, advice)
    elif isinstance(operation, AddIndexConcurrently):
        if table in partitioned:
            on_table("PostgreSQL refuses to build an index CONCURRENTLY on a partitioned table", index_advice)
    elif isinstance(operation, ops.AddIndex):
        on_table(
            "CREATE INDEX blocks every write to the table until the build over all its rows ends",
            index_advice,
        )
    elif isinstance(operation, ops.AddConstraint):
        constraint = operation.constraint
        if isinstance(constraint, models.CheckConstraint):
            if not isinstance(operation, AddConstraintNotValid):
                on_table(
                    "adding a CHECK makes PostgreSQL verify every row while holding the table", CHECK_ADVICE
                )
        elif isinstance(constraint, models.UniqueConstraint):
            on_table(
                "a unique constraint builds its index with writes blocked for the whole build",
                (
                    f"{PARTITIONED_INDEX_ADVICE} (CREATE UNIQUE INDEX, which must include occurred_at)"
                    if (table in partitioned)
                    else "CREATE UNIQUE INDEX CONCURRENTLY, then ALTER TABLE … ADD CONSTRAINT … UNIQUE "
                    "USING INDEX (RunSQL in SeparateDatabaseAndState, atomic = False)"
                ),
            )
        else:
            on_table("the constraint builds an index with writes blocked for the whole build", REVIEW_ADVICE)
    elif isinstance(operation, ops.AlterUniqueTogether | ops.AlterIndexTogether):
        option = operation.option_name
        before = {tuple(x) for x in state.models[(app_label, model_name)].options.get(option) or ()}
        added = {tuple(x) for x in (operation.option_value or ())} - before
        if added:
            on_table(
                f"{option} {sorted(added)} builds an index with writes blocked for the whole build",
                f"declare a models.Index or UniqueConstraint instead and {index_advice}",
            )
    elif isinstance(operation, ops.DeleteModel):
        on_table(
            "dropping the table drops every row and partition (the logs are emptied by their "
            "retention, not by a migration)",
            REVIEW_ADVICE,
        )
    elif isinstance(operation, ops.RenameModel | ops.AlterModelTable):
        if isinstance(operation, ops.AlterModelTable):
            new_table = operation.table or f"{app_label}_{model_name}"
        else:
            options = state.models[(app_label, model_name)].options
            new_table = options.get("db_table") or f"{app_label}_{operation.new_name_lower}"
        if new_table != table.db_table:
            on_table(
                f"renaming the table to {new_table} leaves its partitions and the raw SQL of the "
                "partitioning migrations under the old name, which the partition code and a "
                "reverse migration find it by",
                "keep the table's name (Meta.db_table) when renaming the model",
            )
    elif not isinstance(
        operation,
        ops.CreateModel
        | ops.RemoveField
        | ops.RenameField
        | ops.RemoveIndex
        | ops.RenameIndex
        | ops.RemoveConstraint
        | ops.AlterModelOptions
        | ops.AlterModelManagers
        | ops.AlterModelTableComment
        | ops.AlterOrderWithRespectTo
        | ValidateConstraint,
    ):
        on_table(f"{type(operation).__name__} is not known to this checker", REVIEW_ADVICE)
    return problems


_TYPE_CHANGE = re.compile(r"\bALTER\s+COLUMN\s+\S+\s+TYPE\b", re.I)
# Statements that hold a big table for as long as its rows take; a statement the rules above
# did not already report is reported with these words.
_SQL_RISKS = (
    (
        re.compile(r"\bCREATE\s+(UNIQUE\s+)?INDEX\b(?!\s+CONCURRENTLY)", re.I),
        "CREATE INDEX without CONCURRENTLY",
    ),
    (
        re.compile(r"\bADD\s+CONSTRAINT\b(?!.*\b(NOT\s+VALID|USING\s+INDEX)\b)", re.I | re.S),
        "a constraint checked over every row",
    ),
    (re.compile(r"\bSET\s+NOT\s+NULL\b", re.I), "SET NOT NULL, which scans every row"),
    (_TYPE_CHANGE, "a change of column type"),
    (
        re.compile(r"\bADD\s+COLUMN\b.*\b(CHECK|REFERENCES)\b", re.I | re.S),
        "a new column with a check over every row",
    ),
    (re.compile(r"\bGENERATED\s+ALWAYS\s+AS\b.*\bSTORED\b", re.I | re.S), "a stored generated column"),
    (
        re.compile(
            r"^\s*(UPDATE|DELETE\s+FROM|TRUNCATE|DROP\s+TABLE|LOCK\s+TABLE|CLUSTER|VACUUM\s+FULL)\b", re.I
        ),
        "a statement over the whole table",
    ),
)


def collect_sql(operation, app_label, before: ProjectState, connection) -> list[str]:
    """The statements the operation would run from the state ``before``, without running them
    (the schema editor may still read the catalog)."""
    after = before.clone()
    operation.state_forwards(app_label, after)
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        operation.database_forwards(app_label, editor, before, after)
    return list(editor.collected_sql)


def sql_problems(statements, operation, table: BigTable) -> list[str]:
    """What in the operation's SQL would hold ``table`` (or one of its partitions) for as long as
    its rows take."""
    found = []
    names = re.compile(re.escape(table.db_table), re.IGNORECASE)
    for statement in statements:
        if not names.search(statement):
            continue
        for pattern, what in _SQL_RISKS:
            if pattern is _TYPE_CHANGE and isinstance(operation, ops.AlterField):
                continue  # judged from the field's types, which tell the free changes apart
            if pattern.search(statement):
                found.append(f"its SQL holds the table for as long as its rows take: {what}")
                break
    return found


def _wants_sql(operation, app_label) -> bool:
    return (
        _big_table(app_label, _model_name(operation)) is not None
        and not isinstance(
            operation, ops.CreateModel | ops.RunSQL | ops.RunPython | ops.SeparateDatabaseAndState
        )
        and not isinstance(operation, NotInTransactionMixin)  # refuses to run inside a test's transaction
    )


def check_migration(migration, state: ProjectState, connection=None, applied=None) -> list[Finding]:
    """Every finding for ``migration``, allowed or not; ``state`` is the project's state before
    it (left unchanged) and ``applied`` the migrations before it (by default all of them: the
    big tables are partitioned). With a PostgreSQL ``connection``, the SQL of each operation on
    a big table is collected (not run) and looked at too."""
    partitioned = frozenset(
        table
        for table in BIG_TABLES
        if table.partitioned_by and (applied is None or table.partitioned_by in applied)
    )
    postgres = connection is not None and connection.vendor == "postgresql"
    state = state.clone()
    findings = []

    def visit(operations, prefix, state):
        for index, operation in enumerate(operations):
            position = f"{prefix}{index}"
            if isinstance(operation, ops.SeparateDatabaseAndState):
                visit(operation.database_operations, f"{position}.", state.clone())
                operation.state_forwards(migration.app_label, state)
                continue
            description = f"{type(operation).__name__}: {operation.describe()}"
            problems = _operation_problems(operation, migration.app_label, state, partitioned)
            sql = []
            if postgres and _wants_sql(operation, migration.app_label):
                try:
                    sql = collect_sql(operation, migration.app_label, state, connection)
                except Exception as error:  # noqa: BLE001 - any failure is reported, not raised
                    table = _big_table(migration.app_label, _model_name(operation))
                    problems.append(
                        (table, f"its PostgreSQL SQL could not be collected ({error!r})", REVIEW_ADVICE)
                    )
                else:
                    table = _big_table(migration.app_label, _model_name(operation))
                    if not any(p[0] == table for p in problems):
                        for problem in sql_problems(sql, operation, table):
                            problems.append((table, problem, REVIEW_ADVICE))
            for table, problem, advice in problems:
                findings.append(
                    Finding(
                        app_label=migration.app_label,
                        migration=migration.name,
                        operation=position,
                        description=description,
                        table=table.label if table else "an unknown table",
                        problem=problem,
                        advice=advice,
                        sql=tuple(sql),
                    )
                )
            operation.state_forwards(migration.app_label, state)

    visit(migration.operations, "", state)
    return findings


def migration_plan(loader: MigrationLoader) -> list:
    """Every migration of the project, in an order ``migrate`` could apply them."""
    plan, seen = [], set()
    for leaf in sorted(loader.graph.leaf_nodes()):
        for key in loader.graph.forwards_plan(leaf):
            if key not in seen:
                seen.add(key)
                plan.append(loader.graph.nodes[key])
    return plan


def check_project(connection=None) -> Report:
    """Every migration of the project, checked in order; findings split by ``ALLOWED``."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    state = ProjectState(real_apps=loader.unmigrated_apps)
    report = Report()
    applied = set()
    for migration in migration_plan(loader):
        for finding in check_migration(migration, state, connection, applied):
            (report.allowed if finding.allowance() else report.findings).append(finding)
        state = migration.mutate_state(state, preserve=False)
        applied.add((migration.app_label, migration.name))
    return report


def touches_big_tables(migration) -> bool:
    """Whether any operation of the migration concerns a big table, cheap or not: what an entry
    of ``ALLOWED`` must name."""

    def concerns(operation) -> bool:
        if isinstance(operation, ops.SeparateDatabaseAndState):
            return any(map(concerns, operation.database_operations))
        if isinstance(operation, ops.RunSQL):
            return bool(_tables_named(_sql_text(operation.sql) + _sql_text(operation.reverse_sql)))
        if isinstance(operation, ops.RunPython):
            texts = [_code_text(operation.code) or "", _code_text(operation.reverse_code) or ""]
            return bool(_tables_named("\n".join(texts)))
        return _big_table(migration.app_label, _model_name(operation)) is not None

    return any(map(concerns, migration.operations))
