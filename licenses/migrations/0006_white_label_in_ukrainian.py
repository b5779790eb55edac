"""The catalogue's "White label" had no Ukrainian name (it showed in English)."""

from django.db import migrations


def forward(apps, schema_editor):
    apps.get_model("licenses", "Feature").objects.filter(code="white_label").update(name_uk="Власний бренд")


def backward(apps, schema_editor):
    apps.get_model("licenses", "Feature").objects.filter(code="white_label").update(name_uk="White label")


class Migration(migrations.Migration):
    dependencies = [("licenses", "0005_device_block_index")]
    operations = [migrations.RunPython(forward, backward)]
