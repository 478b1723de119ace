"""A slider notes which ratings its gate measured, and whether a gate run is already queued."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sliders', '0002_tables_of_their_own'),
    ]

    operations = [
        migrations.AddField(
            model_name='slider',
            name='gate_queued',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='slider',
            name='ratings_version',
            field=models.PositiveBigIntegerField(default=0, editable=False),
        ),
    ]
