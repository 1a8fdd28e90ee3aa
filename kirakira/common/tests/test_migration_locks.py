"""No migration holds the big tables (the usage log, the staff access log) for long (issue 15).

``kirakira/common/migration_safety.py`` reads every migration of the project; on PostgreSQL it
also reads the SQL each operation on those tables would run. The tests below check the project,
then show on migrations built here (never written to disk) that the checker reports what would
rewrite, scan or block a big table, and lets through what PostgreSQL does in its catalog only.
"""

import pytest
from django.apps import apps
from django.contrib.postgres.operations import (
    AddConstraintNotValid,
    AddIndexConcurrently,
    RemoveIndexConcurrently,
    ValidateConstraint,
)
from django.db import connection, migrations, models
from django.db.migrations.loader import MigrationLoader
from django.db.models.functions import Now, Random

from kirakira.common import migration_safety
from kirakira.common.migration_safety import ALLOWED, BIG_TABLES, Allowed, check_migration, check_project

pytestmark = pytest.mark.django_db  # on PostgreSQL the checker asks the schema editor for SQL

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's own SQL and tables"
)


@pytest.fixture(scope="module")
def loader():
    return MigrationLoader(None, ignore_no_migrations=True)


@pytest.fixture(scope="module")
def latest(loader):
    """The project's state after every migration: where a new migration starts."""
    return loader.project_state()


def fake(app_label, *operations, atomic=True):
    migration = migrations.Migration("9999_fake", app_label)
    migration.operations = list(operations)
    migration.atomic = atomic
    return migration


def check(migration, state):
    return check_migration(migration, state, connection)


def touch_usage_records(apps, schema_editor):
    apps.get_model("usage", "UsageRecord").objects.update(route="")


def per_row():
    return 1


class AddIndexConcurrentlyOnPostgreSQL(AddIndexConcurrently):
    """As README, "Upgrading", has it: SQLite, which has no CONCURRENTLY, gets the plain index."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


# -- The project's migrations -------------------------------------------------------------------


def test_no_migration_holds_a_big_table_for_long():
    report = check_project(connection)
    assert not report.findings, "Migrations that would hold a big table for long:\n" + "\n".join(
        map(str, report.findings)
    )


def test_the_migrations_that_made_the_tables_are_seen_and_accepted_only_by_the_list():
    """What 0006 and the two partitioning migrations do would be reported, were they not
    listed: the list is what accepts them, not a blind spot of the checker."""
    report = check_project(connection)
    seen = {(f.app_label, f.migration, f.table) for f in report.allowed}
    assert ("usage", "0002_partition_by_month", "usage.UsageRecord") in seen
    assert ("privacy", "0006_staff_access_log", "privacy.StaffAccessRecord") in seen
    assert ("privacy", "0006_staff_access_log", "privacy.StaffAccessSubject") in seen
    assert ("privacy", "0009_partition_access_log", "privacy.StaffAccessRecord") in seen
    assert ("privacy", "0009_partition_access_log", "privacy.StaffAccessSubject") in seen


def test_a_new_migration_in_the_project_fails_the_check(monkeypatch):
    """What the first test would say of a migration file added after usage 0002."""
    bad = fake(
        "usage", migrations.AddIndex("usagerecord", models.Index(fields=["route"], name="usage_route_idx"))
    )

    class LoaderWithIt(MigrationLoader):
        def build_graph(self):
            super().build_graph()
            self.graph.add_node(("usage", bad.name), bad)
            self.graph.add_dependency(bad, ("usage", bad.name), ("usage", "0002_partition_by_month"))

    monkeypatch.setattr(migration_safety, "MigrationLoader", LoaderWithIt)
    report = check_project(connection)
    assert [(f.migration, f.table, f.description.split(":")[0]) for f in report.findings] == [
        ("9999_fake", "usage.UsageRecord", "AddIndex")
    ]


def test_each_allowance_names_a_migration_on_a_big_table_with_a_reason(loader):
    for allowed in ALLOWED:
        key = (allowed.app_label, allowed.migration)
        assert key in loader.graph.nodes, f"{key} is allow-listed but does not exist"
        migration = loader.graph.nodes[key]
        assert migration_safety.touches_big_tables(migration), (
            f"{key} is allow-listed but touches no big table"
        )
        if allowed.operation is not None:
            assert allowed.operation < len(migration.operations), (
                f"{key} has no operation {allowed.operation}"
            )
        assert allowed.reason.strip() and "\n" not in allowed.reason, f"{key} needs a one-line reason"


def test_the_big_tables_are_the_models_tables():
    for table in BIG_TABLES:
        model = apps.get_model(table.app_label, table.model_name)
        assert (model._meta.db_table, model._meta.object_name) == (table.db_table, table.object_name)


@postgres_only
def test_the_tables_said_partitioned_are_partitioned():
    with connection.cursor() as cursor:
        for table in BIG_TABLES:
            cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table.db_table])
            assert cursor.fetchone()[0] == ("p" if table.partitioned_by else "r"), table.db_table


# -- A new migration: reported ------------------------------------------------------------------


def test_a_callable_default_and_a_plain_index_are_reported(latest):
    """The issue's example: each report names the table, the operation and what to do instead."""
    usage = check(
        fake("usage", migrations.AddField("usagerecord", "x", models.IntegerField(default=per_row))), latest
    )
    access = check(
        fake(
            "privacy",
            migrations.AddIndex(
                "staffaccessrecord", models.Index(fields=["action"], name="privacy_access_action_idx")
            ),
        ),
        latest,
    )

    assert len(usage) == 1
    message = str(usage[0])
    assert "usage.9999_fake, operation 0 (AddField: " in message
    assert "on usage.UsageRecord" in message
    assert "default='per_row' is a callable" in message
    assert "Instead: add the column nullable and without default, fill it in batches" in message

    assert len(access) == 1
    message = str(access[0])
    assert "operation 0 (AddIndex: " in message
    assert "on privacy.StaffAccessRecord" in message
    assert "CREATE INDEX blocks every write" in message
    # The table is partitioned: AddIndexConcurrently would be refused there.
    assert "cannot build an index CONCURRENTLY on a partitioned table" in message
    assert "ON ONLY the table" in message and "ATTACH PARTITION" in message
    if connection.vendor == "postgresql":
        (statement,) = access[0].sql
        assert statement.startswith('CREATE INDEX "privacy_access_action_idx" ON "privacy_staffaccessrecord"')


REPORTED = [
    pytest.param(
        "privacy",
        [
            migrations.AddIndex(
                "staffaccesssubject", models.Index(fields=["subject_id"], name="privacy_subj_idx")
            )
        ],
        "privacy.StaffAccessSubject",
        "use django.contrib.postgres.operations.AddIndexConcurrently",
        id="plain index, table not partitioned",
    ),
    pytest.param(
        "privacy",
        [
            AddIndexConcurrently(
                "staffaccessrecord", models.Index(fields=["action"], name="privacy_action_idx")
            )
        ],
        "privacy.StaffAccessRecord",
        "PostgreSQL refuses to build an index CONCURRENTLY on a partitioned table",
        id="concurrent index on a partitioned table",
    ),
    pytest.param(
        "usage",
        [migrations.AlterField("usagerecord", "route", models.CharField(max_length=50))],
        "usage.UsageRecord",
        "changing the column from varchar(100) to varchar(50)",
        id="shorter varchar",
    ),
    pytest.param(
        "usage",
        [migrations.AlterField("usagerecord", "status_code", models.IntegerField())],
        "usage.UsageRecord",
        "from smallint to integer",
        id="other type",
    ),
    pytest.param(
        "privacy",
        [
            migrations.AlterField(
                "staffaccessrecord", "ip_address", models.GenericIPAddressField(blank=True, editable=False)
            )
        ],
        "privacy.StaffAccessRecord",
        "SET NOT NULL scans every row",
        id="not null",
    ),
    pytest.param(
        "usage",
        [migrations.AlterField("usagerecord", "route", models.CharField(max_length=100, db_index=True))],
        "usage.UsageRecord",
        "db_index=True builds an index",
        id="index on a field",
    ),
    pytest.param(
        "privacy",
        [
            migrations.AddConstraint(
                "staffaccesssubject",
                models.CheckConstraint(condition=models.Q(id__gt=0), name="privacy_subj_id"),
            )
        ],
        "privacy.StaffAccessSubject",
        "AddConstraintNotValid, then ValidateConstraint",
        id="check constraint",
    ),
    pytest.param(
        "usage",
        [
            migrations.AddConstraint(
                "usagerecord", models.UniqueConstraint(fields=["member", "route"], name="usage_member_route")
            )
        ],
        "usage.UsageRecord",
        "must include occurred_at",
        id="unique constraint",
    ),
    pytest.param(
        "usage",
        [migrations.AlterUniqueTogether("usagerecord", {("member", "route")})],
        "usage.UsageRecord",
        "unique_together [('member', 'route')] builds an index",
        id="unique together",
    ),
    pytest.param(
        "usage",
        [migrations.AddField("usagerecord", "n", models.PositiveIntegerField(null=True))],
        "usage.UsageRecord",
        'its type brings CHECK ("n" >= 0)',
        id="type with a check",
    ),
    pytest.param(
        "usage",
        [migrations.AddField("usagerecord", "n", models.IntegerField())],
        "usage.UsageRecord",
        "a NOT NULL column without a default cannot be added",
        id="not null without default",
    ),
    pytest.param(
        "usage",
        [migrations.AddField("usagerecord", "n", models.FloatField(db_default=Random()))],
        "usage.UsageRecord",
        "may be volatile",
        id="volatile db_default",
    ),
    pytest.param(
        "privacy",
        [
            migrations.AddField(
                "staffaccesssubject",
                "by",
                models.ForeignKey("accounts.user", null=True, on_delete=models.PROTECT, db_index=False),
            )
        ],
        "privacy.StaffAccessSubject",
        "declare it with db_constraint=False, then add the constraint with RunSQL … NOT VALID",
        id="foreign key",
    ),
    pytest.param(
        "orders",
        [
            migrations.AddField(
                "order", "usage", models.ForeignKey("usage.usagerecord", null=True, on_delete=models.SET_NULL)
            )
        ],
        "usage.UsageRecord",
        "fails on PostgreSQL: the partitioned table has no unique key on id alone",
        id="foreign key to a partitioned table",
    ),
    pytest.param(
        "accounts",
        [migrations.AlterField("user", "id", models.CharField(max_length=36, primary_key=True))],
        "usage.UsageRecord",
        "changes the column of usage_usagerecord that refers to it",
        id="type of a key the log points at",
    ),
    pytest.param(
        "usage",
        [migrations.RunSQL("UPDATE usage_usagerecord SET route = ''", migrations.RunSQL.noop)],
        "usage.UsageRecord",
        "its SQL names usage_usagerecord",
        id="raw SQL",
    ),
    pytest.param(
        "usage",
        [migrations.RunPython(touch_usage_records, migrations.RunPython.noop)],
        "usage.UsageRecord",
        "allow-list it in kirakira/common/migration_safety.py with the reason",
        id="data migration",
    ),
    pytest.param(
        "usage",
        [migrations.DeleteModel("UsageRecord")],
        "usage.UsageRecord",
        "dropping the table drops every row",
        id="drop",
    ),
    pytest.param(
        "usage",
        [migrations.RenameModel("UsageRecord", "UseRecord")],
        "usage.UsageRecord",
        "keep the table's name (Meta.db_table)",
        id="rename of the table",
    ),
    pytest.param(
        "privacy",
        [
            migrations.SeparateDatabaseAndState(
                database_operations=[migrations.AlterModelTable("staffaccessrecord", "x")]
            )
        ],
        "privacy.StaffAccessRecord",
        "renaming the table to x leaves its partitions",
        id="inside SeparateDatabaseAndState",
    ),
]


@pytest.mark.parametrize(("app_label", "operations", "table", "words"), REPORTED)
def test_an_operation_that_would_hold_a_big_table_is_reported(latest, app_label, operations, table, words):
    found = check(fake(app_label, *operations), latest)
    assert found, "not reported"
    assert any(f.table == table and words in str(f) for f in found), "\n".join(map(str, found))


# -- A new migration: accepted ------------------------------------------------------------------


def test_what_postgresql_does_in_its_catalog_is_accepted(latest):
    usage = fake(
        "usage",
        migrations.AddField("usagerecord", "note", models.IntegerField(null=True)),
        # A constant default: PostgreSQL keeps it in its catalog for the rows there are.
        migrations.AddField("usagerecord", "flag", models.BooleanField(default=False)),
        migrations.AddField("usagerecord", "at", models.DateTimeField(db_default=Now())),
        migrations.AlterField("usagerecord", "route", models.CharField("route", max_length=200)),
        migrations.AlterField("usagerecord", "method", models.TextField("HTTP method")),
        migrations.RenameField("usagerecord", "note", "remark"),
        migrations.RemoveField("usagerecord", "remark"),
        migrations.RemoveIndex("usagerecord", "usage_occurred_at_idx"),
        migrations.AlterModelOptions("usagerecord", {"verbose_name": "use"}),
        migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop),
    )
    privacy = fake(
        "privacy",
        AddIndexConcurrently(
            "staffaccesssubject", models.Index(fields=["subject_id"], name="privacy_subj_idx")
        ),
        RemoveIndexConcurrently("staffaccesssubject", "privacy_subj_idx"),
        AddIndexConcurrentlyOnPostgreSQL(
            "staffaccesssubject", models.Index(fields=["subject_id"], name="privacy_subj_idx")
        ),
        AddConstraintNotValid(
            "staffaccessrecord",
            models.CheckConstraint(condition=models.Q(seq__gt=0), name="privacy_seq_positive"),
        ),
        ValidateConstraint("staffaccessrecord", "privacy_seq_positive"),
        atomic=False,
    )
    found = check(usage, latest) + check(privacy, latest)
    assert not found, "\n".join(map(str, found))


def test_an_allowance_for_one_operation_leaves_the_others_checked(latest, monkeypatch):
    migration = fake(
        "usage",
        migrations.RunSQL("SELECT count(*) FROM usage_usagerecord", migrations.RunSQL.noop),
        migrations.AddIndex("usagerecord", models.Index(fields=["route"], name="usage_route_idx")),
    )
    allowed = Allowed("usage", "9999_fake", "reads only", operation=0)
    monkeypatch.setattr(migration_safety, "ALLOWED", (*ALLOWED, allowed))
    found = check(migration, latest)
    assert [(f.operation, f.allowance()) for f in found] == [("0", allowed), ("1", None)]


def test_the_operations_of_other_tables_are_not_looked_at(latest):
    found = check(
        fake(
            "orders",
            migrations.AddIndex("order", models.Index(fields=["created_at"], name="orders_created_idx")),
        ),
        latest,
    )
    assert found == []


# -- The SQL net, for what the rules above do not expect ---------------------------------------

TABLE = BIG_TABLES[0]


@pytest.mark.parametrize(
    ("statement", "reported"),
    [
        ('CREATE INDEX "i" ON "usage_usagerecord" ("route");', True),
        ('CREATE UNIQUE INDEX "i" ON "usage_usagerecord_p2026_01" ("route");', True),
        ('CREATE INDEX CONCURRENTLY "i" ON "usage_usagerecord" ("route");', False),
        ('ALTER TABLE "usage_usagerecord" ADD CONSTRAINT "c" CHECK ("id" > 0);', True),
        ('ALTER TABLE "usage_usagerecord" ADD CONSTRAINT "c" CHECK ("id" > 0) NOT VALID;', False),
        ('ALTER TABLE "usage_usagerecord" ALTER COLUMN "route" SET NOT NULL;', True),
        ('ALTER TABLE "usage_usagerecord" ALTER COLUMN "route" TYPE text;', True),
        ('ALTER TABLE "usage_usagerecord" ADD COLUMN "n" integer NULL CHECK ("n" >= 0);', True),
        ('ALTER TABLE "usage_usagerecord" ADD COLUMN "n" integer NULL;', False),
        ('UPDATE "usage_usagerecord" SET "route" = \'\';', True),
        ('ALTER TABLE "usage_usagerecord" RENAME COLUMN "route" TO "path";', False),
        ('CREATE INDEX "i" ON "orders_order" ("id");', False),
    ],
)
def test_the_sql_net(statement, reported):
    operation = migrations.AddField("usagerecord", "n", models.IntegerField(null=True))
    assert bool(migration_safety.sql_problems([statement], operation, TABLE)) is reported


# -- What PostgreSQL does with it ---------------------------------------------------------------


@postgres_only
def test_what_is_accepted_leaves_the_rows_in_place_and_a_rewrite_is_reported(latest):
    """Run in the test's transaction (rolled back): the SQL of accepted operations leaves every
    partition's file as it was, where a reported type change gives each a new one (a rewrite)."""

    def files(cursor):
        cursor.execute(
            "SELECT c.relname, pg_relation_filenode(c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'usage_usagerecord'::regclass"
        )
        return dict(cursor.fetchall())

    def run(operations, state):
        state = state.clone()
        with connection.cursor() as cursor:
            for operation in operations:
                for statement in migration_safety.collect_sql(operation, "usage", state, connection):
                    cursor.execute(statement)
                operation.state_forwards("usage", state)
        return state

    accepted = [
        migrations.AddField("usagerecord", "note", models.IntegerField(null=True)),
        migrations.AddField("usagerecord", "flag", models.BooleanField(default=False)),
        migrations.AddField("usagerecord", "at", models.DateTimeField(db_default=Now())),
        migrations.AlterField("usagerecord", "route", models.CharField("route", max_length=200)),
        migrations.AlterField("usagerecord", "method", models.TextField("HTTP method")),
    ]
    assert check(fake("usage", *accepted), latest) == []
    with connection.cursor() as cursor:
        before = files(cursor)
        assert len(before) >= 2  # the default partition and the months
        state = run(accepted, latest)
        assert files(cursor) == before

        rewrite = migrations.AlterField("usagerecord", "route", models.CharField("route", max_length=50))
        assert check(fake("usage", rewrite), state)
        run([rewrite], state)
        after = files(cursor)
        assert after.keys() == before.keys()
        assert all(after[name] != before[name] for name in before)
