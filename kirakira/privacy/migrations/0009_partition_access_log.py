"""On PostgreSQL, the staff access log's records become a table partitioned by month of
``occurred_at``, so that months past their two years are disposed of by dropping their partition
(``kirakira/privacy/access_log/partitions.py``). Nothing changes on SQLite, nor in the model's
state.

The rows are copied into the new table with their ids; the identity sequence goes on from the
highest. A unique constraint of a partitioned table must hold the partition key, so in the
database:

- the primary key becomes (id, occurred_at); ``id`` alone stays the model's primary key and is
  still unique, as only the identity sequence gives it out;
- ``seq``'s uniqueness becomes (seq, occurred_at), under its old name. What keeps ``seq`` unique
  is the chain: every number is given under the head row's lock (``chain.append``), and
  ``chain.verify`` names a number that appears twice or not at all;
- the foreign key from ``privacy_staffaccesssubject.record_id`` is dropped, as it cannot point at
  ``id`` alone. The members of a record are written in the record's statement and deleted in the
  disposal's transaction before their record, and a member row changed behind the code's back
  breaks its record's seal. The model keeps its ``ForeignKey`` (Django's joins and cascades work
  as before): only the database's constraint goes.

What Django made in 0006 is made again under the same names: the foreign key to the staff
member, the check on ``seq`` and the three indexes. Monthly partitions (UTC) are made for each
month that holds rows and for this month and the next three (the schedule keeps creating them
ahead); any other row goes to the default partition. The reverse makes the plain table of 0006
again, rows and the member rows' foreign key included.
"""

from django.db import migrations

from kirakira.common import migration_partitions as helpers

TABLE = "privacy_staffaccessrecord"
OLD = "privacy_staffaccessrecord_old"
DEFAULT_PARTITION = "privacy_staffaccessrecord_default"
PKEY = "privacy_staffaccessrecord_pkey"
SEQ_KEY = "privacy_staffaccessrecord_seq_key"
STAFF_FOREIGN_KEY = "privacy_staffaccessrecord_staff_id_6a528d05_fk_accounts_user_id"
INDEXES = {
    "privacy_access_staff_idx": "(staff_id, occurred_at)",
    "privacy_staffaccessrecord_occurred_at_fd0d4541": "(occurred_at)",
    "privacy_staffaccessrecord_staff_id_6a528d05": "(staff_id)",
}
SUBJECT_TABLE = "privacy_staffaccesssubject"
SUBJECT_FOREIGN_KEY = "privacy_staffaccesss_record_id_df1e169e_fk_privacy_s"
MONTHS_AHEAD = 3


def _columns(cursor, table: str) -> str:
    cursor.execute(
        "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
        "WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
        [table],
    )
    return cursor.fetchone()[0]


def _copy_into_new_table(cursor, execute, partitioned: bool) -> None:
    """Renames the table to OLD and makes TABLE again, with the same columns, defaults, identity
    and check constraints (``LIKE``), partitioned or not, then copies the rows."""
    execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    partition_by = " PARTITION BY RANGE (occurred_at)" if partitioned else ""
    execute(
        f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY)"
        + partition_by
    )


def _finish(cursor, execute, columns: str, with_occurred_at: bool) -> None:
    """Copies the rows, drops the old table, then gives the identity sequence its name and
    position back and makes the keys and indexes (built once over all rows, faster than kept up
    row by row during the copy)."""
    execute(f"INSERT INTO {TABLE} ({columns}) SELECT {columns} FROM {OLD}")  # noqa: S608
    execute(f"DROP TABLE {OLD}")  # with its partitions, if it had any
    helpers.restore_identity_sequence(cursor, execute, TABLE)
    key = ", occurred_at" if with_occurred_at else ""
    execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {PKEY} PRIMARY KEY (id{key})")
    execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {SEQ_KEY} UNIQUE (seq{key})")
    execute(
        f"ALTER TABLE {TABLE} ADD CONSTRAINT {STAFF_FOREIGN_KEY} FOREIGN KEY (staff_id) "
        "REFERENCES accounts_user (id) DEFERRABLE INITIALLY DEFERRED"
    )
    for name, indexed in INDEXES.items():
        execute(f"CREATE INDEX {name} ON {TABLE} {indexed}")


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from kirakira.common import clock

    execute = schema_editor.execute
    with schema_editor.connection.cursor() as cursor:
        helpers.expect_indexes(cursor, TABLE, {PKEY, SEQ_KEY, *INDEXES})
        columns = _columns(cursor, TABLE)
        months = helpers.months_to_create(cursor, TABLE, clock.now(), MONTHS_AHEAD)

        execute(f"ALTER TABLE {SUBJECT_TABLE} DROP CONSTRAINT {SUBJECT_FOREIGN_KEY}")
        _copy_into_new_table(cursor, execute, partitioned=True)
        helpers.create_partitions(execute, TABLE, DEFAULT_PARTITION, months)
        _finish(cursor, execute, columns, with_occurred_at=True)


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    execute = schema_editor.execute
    with schema_editor.connection.cursor() as cursor:
        helpers.expect_partitioned(cursor, TABLE)
        columns = _columns(cursor, TABLE)
        # Index names are the schema's: the old ones make way for the new table's.
        for name in (PKEY, SEQ_KEY, *INDEXES):
            execute(f"ALTER INDEX {name} RENAME TO {name}_old")
        _copy_into_new_table(cursor, execute, partitioned=False)
        _finish(cursor, execute, columns, with_occurred_at=False)
        # Member rows whose record is gone (none, unless written behind the code's back) would
        # make the constraint fail: say so rather than drop them.
        cursor.execute(
            f"SELECT count(*) FROM {SUBJECT_TABLE} s WHERE NOT EXISTS "  # noqa: S608
            f"(SELECT 1 FROM {TABLE} r WHERE r.id = s.record_id)"
        )
        orphans = cursor.fetchone()[0]
        if orphans:
            raise RuntimeError(f"{orphans} rows of {SUBJECT_TABLE} name a record that does not exist")
        execute(
            f"ALTER TABLE {SUBJECT_TABLE} ADD CONSTRAINT {SUBJECT_FOREIGN_KEY} FOREIGN KEY (record_id) "
            f"REFERENCES {TABLE} (id) DEFERRABLE INITIALLY DEFERRED"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0008_retention"),
    ]

    operations = [
        migrations.RunPython(partition, unpartition, elidable=False),
    ]
