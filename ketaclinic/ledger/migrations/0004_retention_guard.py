"""Retention guard (security-checks CS-09) and append-only for the new tables (CS-01).

- Loss reports and their steps refuse UPDATE and DELETE, like events and witness rows.
- Products and lots refuse DELETE (a lot's balance and a product's `active` flag still change).
- On SQLite, 0003 rebuilt the events table, which drops its triggers: they are made again here.
"""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

APPEND_ONLY = ("ledger_ledgerevent", "ledger_wastewitness", "ledger_lossreport", "ledger_lossstep")
NEW_APPEND_ONLY = ("ledger_lossreport", "ledger_lossstep")
KEPT = ("ledger_product", "ledger_lot")
ABORT = "BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;"
KEEP = "BEGIN SELECT RAISE(ABORT, 'controlled-substance records are never deleted'); END;"


def _sqlite() -> list[str]:
    statements: list[str] = []
    for table in APPEND_ONLY:
        statements += [
            f"DROP TRIGGER IF EXISTS {table}_no_update;",
            f"DROP TRIGGER IF EXISTS {table}_no_delete;",
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} {ABORT}",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} {ABORT}",
        ]
    for table in KEPT:
        statements.append(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} {KEEP}")
    return statements


def _sqlite_reverse() -> list[str]:
    return [
        *(f"DROP TRIGGER IF EXISTS {table}_no_delete;" for table in KEPT),
        *(
            f"DROP TRIGGER IF EXISTS {table}_{what};"
            for table in NEW_APPEND_ONLY
            for what in ("no_update", "no_delete")
        ),
    ]


POSTGRES = [
    """CREATE FUNCTION ledger_keep_records() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'controlled-substance records are never deleted'; END; $$;""",
    *(
        statement
        for table in NEW_APPEND_ONLY
        for statement in (
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_append_only();",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();",
        )
    ),
    *(
        statement
        for table in KEPT
        for statement in (
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_keep_records();",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_keep_records();",
        )
    ),
]
POSTGRES_REVERSE = [
    *(
        f"DROP TRIGGER {table}_{what} ON {table};"
        for table in (*NEW_APPEND_ONLY, *KEPT)
        for what in (("no_change", "no_truncate") if table in NEW_APPEND_ONLY else ("no_delete", "no_truncate"))
    ),
    "DROP FUNCTION ledger_keep_records();",
]


def forwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else _sqlite()
    for statement in statements:
        schema_editor.execute(statement)


def backwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    statements = POSTGRES_REVERSE if schema_editor.connection.vendor == "postgresql" else _sqlite_reverse()
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_breakage_transfer_loss")]
    operations = [migrations.RunPython(forwards, backwards)]
