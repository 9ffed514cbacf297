"""Repeated failures: the count an event stands for (hashed from chain format 3) and the tally behind it.

The column is added in place. Django would rebuild the audit table on SQLite to add a NOT NULL column,
and the rebuild would drop the append-only triggers of 0002 with the old table; ALTER TABLE ADD COLUMN
keeps them, and on PostgreSQL adding a column with a constant default rewrites no row (no trigger fires).
"""

from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def _occurrences() -> "models.PositiveIntegerField[int, int]":
    field = models.PositiveIntegerField(default=1)
    field.set_attributes_from_name("occurrences")
    return field


def add_occurrences(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            'ALTER TABLE "audit_auditevent" ADD COLUMN "occurrences" integer unsigned NOT NULL '
            'DEFAULT 1 CHECK ("occurrences" >= 0)'
        )
    else:
        schema_editor.add_field(apps.get_model("audit", "AuditEvent"), _occurrences())


def remove_occurrences(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute('ALTER TABLE "audit_auditevent" DROP COLUMN "occurrences"')
    else:
        schema_editor.remove_field(apps.get_model("audit", "AuditEvent"), _occurrences())


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0009_mfa"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="auditevent",
                    name="occurrences",
                    field=models.PositiveIntegerField(default=1),
                ),
            ],
            database_operations=[migrations.RunPython(add_occurrences, remove_occurrences)],
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("auth.login", "Logged in"),
                    ("auth.login_failed", "Failed login"),
                    ("auth.login_locked", "Login refused (locked out)"),
                    ("auth.login_throttled", "Login refused (too many from this address)"),
                    ("auth.api_failed", "API authentication failed"),
                    ("auth.api_throttled", "API authentication refused (too many from this address)"),
                    ("auth.logout", "Logged out"),
                    ("auth.session_timeout", "Session timed out"),
                    ("auth.token_create", "API token created"),
                    ("auth.token_revoke", "API token revoked"),
                    ("staff.create", "Staff account created"),
                    ("staff.update", "Staff account changed"),
                    ("staff.disable", "Staff account disabled"),
                    ("staff.role_grant", "Role granted"),
                    ("staff.role_revoke", "Role revoked"),
                    ("clinic.location_create", "Clinic location created"),
                    ("patient.create", "Patient registered"),
                    ("patient.read", "Patient record read"),
                    ("patient.update", "Patient record changed"),
                    ("patient.search", "Patients searched"),
                    ("patient.list", "Patient list viewed"),
                    ("record.create", "Clinical entry added"),
                    ("record.update", "Clinical entry changed"),
                    ("audit.read", "Audit trail reviewed"),
                    ("audit.export", "Audit trail exported"),
                    ("access.denied", "Access denied"),
                ],
                max_length=40,
            ),
        ),
        migrations.CreateModel(
            name="RepeatTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("auth.login", "Logged in"),
                            ("auth.login_failed", "Failed login"),
                            ("auth.login_locked", "Login refused (locked out)"),
                            ("auth.login_throttled", "Login refused (too many from this address)"),
                            ("auth.api_failed", "API authentication failed"),
                            ("auth.api_throttled", "API authentication refused (too many from this address)"),
                            ("auth.logout", "Logged out"),
                            ("auth.session_timeout", "Session timed out"),
                            ("auth.token_create", "API token created"),
                            ("auth.token_revoke", "API token revoked"),
                            ("staff.create", "Staff account created"),
                            ("staff.update", "Staff account changed"),
                            ("staff.disable", "Staff account disabled"),
                            ("staff.role_grant", "Role granted"),
                            ("staff.role_revoke", "Role revoked"),
                            ("clinic.location_create", "Clinic location created"),
                            ("patient.create", "Patient registered"),
                            ("patient.read", "Patient record read"),
                            ("patient.update", "Patient record changed"),
                            ("patient.search", "Patients searched"),
                            ("patient.list", "Patient list viewed"),
                            ("record.create", "Clinical entry added"),
                            ("record.update", "Clinical entry changed"),
                            ("audit.read", "Audit trail reviewed"),
                            ("audit.export", "Audit trail exported"),
                            ("access.denied", "Access denied"),
                        ],
                        max_length=40,
                    ),
                ),
                ("address", models.CharField(blank=True, max_length=45)),
                (
                    "via",
                    models.CharField(
                        choices=[
                            ("web", "Web"),
                            ("api", "API"),
                            ("cli", "Command line"),
                            ("system", "System"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "outcome",
                    models.CharField(
                        choices=[("success", "Success"), ("denied", "Denied"), ("failure", "Failure")],
                        max_length=10,
                    ),
                ),
                ("pending", models.PositiveIntegerField(default=0)),
                ("reported_at", models.DateTimeField(db_index=True, null=True)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("action", "address"), name="repeat_tally_unique")
                ],
            },
        ),
    ]
