"""Access records keep the purposes the provider gateway sets (X-Egov-Purposes) instead of a
caller's free text; a record made before keeps its text as the code of one purpose."""

from django.db import migrations, models


def purposes_from_text(apps, schema_editor):  # type: ignore[no-untyped-def]
    DataAccess = apps.get_model("registry_legal_entities", "DataAccess")
    rows = DataAccess.objects.using(schema_editor.connection.alias).exclude(purpose="")
    for access in rows.iterator(chunk_size=2000):
        empty = {"be": "", "ru": "", "en": ""}
        access.purposes = [{"code": access.purpose, "text": empty, "legal_basis": empty}]
        access.save(update_fields=["purposes"])


class Migration(migrations.Migration):
    dependencies = [
        ("registry_legal_entities", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="dataaccess",
            name="purposes",
            field=models.JSONField(default=list, verbose_name="purposes"),
        ),
        migrations.RunPython(purposes_from_text, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="dataaccess",
            name="purpose",
        ),
        migrations.AlterField(
            model_name="dataaccess",
            name="user_id",
            field=models.CharField(blank=True, max_length=100, verbose_name="user"),
        ),
    ]
