"""The slider models now live in the `sliders` app (sliders.0001 took them over, rows and tables untouched)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('taste', '0002_sliders'),
        ('sliders', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name='SliderRating'),
                migrations.DeleteModel(name='Slider'),
            ],
        ),
    ]
