"""Ledger events and waste witnesses refuse UPDATE and DELETE at the database (security-checks CS-01)."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

TABLES = ("ledger_ledgerevent", "ledger_wastewitness")

SQLITE = [
    statement
    for table in TABLES
    for statement in (
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        "BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        "BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;",
    )
]
SQLITE_REVERSE = [
    statement
    for table in TABLES
    # IF EXISTS: unapplying 0003 rebuilds the events table on SQLite, which drops its triggers.
    for statement in (f"DROP TRIGGER IF EXISTS {table}_no_update;", f"DROP TRIGGER IF EXISTS {table}_no_delete;")
]

POSTGRES = [
    """CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'ledger entries are append-only'; END; $$;""",
    *(
        statement
        for table in TABLES
        for statement in (
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_append_only();",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();",
        )
    ),
]
POSTGRES_REVERSE = [
    *(
        statement
        for table in TABLES
        for statement in (
            f"DROP TRIGGER {table}_no_truncate ON {table};",
            f"DROP TRIGGER {table}_no_change ON {table};",
        )
    ),
    "DROP FUNCTION ledger_append_only();",
]


def forwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    for statement in statements:
        schema_editor.execute(statement)


def backwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    statements = POSTGRES_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
