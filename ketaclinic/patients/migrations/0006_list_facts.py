"""Each patient's list facts (PatientListFacts, patients/listfacts.py): what a search result's safety chips
are computed from, kept by the actions so that the search page reads them with its rows.

Backfill: every patient not entered in error gets its facts from its entries as they stand.
"""

import django.db.models.deletion
from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

BATCH = 500


def backfill(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from ketaclinic.patients.picture import list_facts

    Patient = apps.get_model("patients", "Patient")
    Facts = apps.get_model("patients", "PatientListFacts")
    ids = list(Patient.objects.filter(entered_in_error_at__isnull=True).values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        facts = list_facts(batch)
        Facts.objects.bulk_create([Facts(patient_id=pk, facts=facts[str(pk)]) for pk in batch])


class Migration(migrations.Migration):
    dependencies = [("patients", "0005_chart_order_indexes")]

    operations = [
        migrations.CreateModel(
            name="PatientListFacts",
            fields=[
                (
                    "patient",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="patients.patient",
                    ),
                ),
                ("facts", models.TextField()),
            ],
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
