"""An index per history section in the order the chart and the API read it (models.CHART_ORDER): a section
of a long history is then read as a range of the patient's rows, not all of them sorted."""

from django.db import migrations, models

CHART_ORDER = ["patient", "status", "created_at", "id"]


class Migration(migrations.Migration):
    dependencies = [("patients", "0004_search_mrn")]

    operations = [
        migrations.AddIndex(
            model_name="allergy",
            index=models.Index(fields=CHART_ORDER, name="allergy_chart_order"),
        ),
        migrations.AddIndex(
            model_name="antidepressanttrial",
            index=models.Index(fields=CHART_ORDER, name="trial_chart_order"),
        ),
        migrations.AddIndex(
            model_name="condition",
            index=models.Index(fields=CHART_ORDER, name="condition_chart_order"),
        ),
        migrations.AddIndex(
            model_name="medication",
            index=models.Index(fields=CHART_ORDER, name="medication_chart_order"),
        ),
        migrations.AddIndex(
            model_name="substanceuse",
            index=models.Index(fields=CHART_ORDER, name="substance_use_chart_order"),
        ),
    ]
