from typing import Any

from django.db import migrations


def load_codes(apps: Any, schema_editor: Any) -> None:
    from ketaclinic.billing import codes

    codes.load(apps.get_model("billing", "CodeRule"))


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(load_codes, migrations.RunPython.noop)]
