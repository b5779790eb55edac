"""Compute the totals kept per pool (0007) for the pools that already exist."""

from django.db import migrations


def compute(apps, schema_editor):
    if not apps.get_model("licenses", "PoolSettings").objects.filter(restricted=True).exists():
        return  # a new database: nothing to count
    # The live code is the one definition of the totals; this runs on the schema of 0007.
    from licenses.totals import rebuild_all

    rebuild_all()


class Migration(migrations.Migration):
    dependencies = [("licenses", "0007_pool_totals")]

    operations = [migrations.RunPython(compute, migrations.RunPython.noop)]
