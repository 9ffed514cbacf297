"""Search through a token index, MRNs assigned by a per-network sequence, external MRNs, and
registrations entered in error.

Backfill: every existing patient gets its search tokens; existing MRNs are kept as they are (staff know
patients by them), and each network's sequence starts after the highest "KC-" number already in use, so a
new MRN can never collide with an old one.
"""

import re

import django.db.models.deletion
from django.apps.registry import Apps
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

BATCH = 2000


def backfill(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from ketaclinic.patients.search import sort_key, tokens

    Patient = apps.get_model("patients", "Patient")
    Token = apps.get_model("patients", "PatientNameToken")
    Sequence = apps.get_model("patients", "MrnSequence")
    highest: dict[int, int] = {}
    batch = []
    columns = ("pk", "network_id", "location_id", "mrn", "given_name", "family_name", "date_of_birth")
    for pk, network, location, mrn, given, family, born in Patient.objects.values_list(*columns).iterator():
        match = re.fullmatch(r"KC-(\d+)", mrn)
        highest[network] = max(highest.get(network, 0), int(match.group(1)) if match else 0)
        key = sort_key(family, given, mrn)
        found = tokens(given_name=given, family_name=family, mrn=mrn, external_mrn="", date_of_birth=born)
        batch += [Token(patient_id=pk, location_id=location, token=t, sort_key=key) for t in sorted(found)]
        if len(batch) >= BATCH:
            Token.objects.bulk_create(batch)
            batch = []
    Token.objects.bulk_create(batch)
    Sequence.objects.bulk_create([Sequence(network_id=n, last_value=v) for n, v in highest.items()])


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('patients', '0003_measurement_vitals'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='MrnSequence',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('last_value', models.PositiveIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name='PatientNameToken',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('token', models.CharField(max_length=80)),
                ('sort_key', models.CharField(max_length=200)),
            ],
        ),
        migrations.AddField(
            model_name='patient',
            name='entered_in_error_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='patient',
            name='entered_in_error_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='patient',
            name='entered_in_error_reason',
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name='patient',
            name='external_mrn',
            field=models.CharField(blank=True, max_length=40, verbose_name='External MRN'),
        ),
        migrations.AddField(
            model_name='patient',
            name='external_mrn_key',
            field=models.CharField(blank=True, editable=False, max_length=40),
        ),
        migrations.AlterField(
            model_name='patient',
            name='mrn',
            field=models.CharField(editable=False, max_length=20, verbose_name='MRN'),
        ),
        migrations.AddConstraint(
            model_name='patient',
            constraint=models.UniqueConstraint(condition=models.Q(('external_mrn_key', ''), _negated=True), fields=('location', 'external_mrn_key'), name='patient_external_mrn_unique_in_location'),
        ),
        migrations.AddField(
            model_name='mrnsequence',
            name='network',
            field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.clinicnetwork'),
        ),
        migrations.AddField(
            model_name='patientnametoken',
            name='location',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.cliniclocation'),
        ),
        migrations.AddField(
            model_name='patientnametoken',
            name='patient',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='patients.patient'),
        ),
        migrations.AddIndex(
            model_name='patientnametoken',
            index=models.Index(fields=['location', 'token', 'sort_key', 'patient'], name='name_token_search'),
        ),
        migrations.AddConstraint(
            model_name='patientnametoken',
            constraint=models.UniqueConstraint(fields=('patient', 'token'), name='name_token_unique_per_patient'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
