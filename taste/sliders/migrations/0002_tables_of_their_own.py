"""The slider tables take this app's names, and their content types (hence admin permissions) move along."""

from django.db import migrations

MODELS = ["slider", "sliderrating"]


def move_content_types(from_label: str, to_label: str):
    def move(apps, schema_editor):
        content_type = apps.get_model("contenttypes", "ContentType")
        for model in MODELS:
            if not content_type.objects.filter(app_label=to_label, model=model).exists():
                content_type.objects.filter(app_label=from_label, model=model).update(app_label=to_label)

    return move


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('sliders', '0001_initial'),
        ('taste', '0003_sliders_move_to_their_own_app'),
    ]

    operations = [
        migrations.AlterModelTable(name='slider', table=None),
        migrations.AlterModelTable(name='sliderrating', table=None),
        migrations.RunPython(move_content_types("taste", "sliders"), move_content_types("sliders", "taste")),
    ]
