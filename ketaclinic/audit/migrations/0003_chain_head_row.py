"""The chain head is a single row that record() bumps; create it once (it may exist already)."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

GENESIS = "0" * 64


def create_head(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    ChainHead = apps.get_model("audit", "ChainHead")
    ChainHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS})


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]
    operations = [migrations.RunPython(create_head, migrations.RunPython.noop)]
