"""Sliders leave the wave-1 `taste` app for an app of their own, keeping every row.

This migration only tells Django that the slider models now belong here, still in the tables that
taste.0002_sliders made; taste.0003 forgets them there, and 0002 below gives the tables this app's names.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('embedding', '0002_vector_guards'),
        ('taste', '0002_sliders'),
        ('tracks', '0002_track_search_document'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Slider',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100)),
                        ('low_label', models.CharField(help_text='What a 1 means, e.g. “not dreamy at all”.', max_length=100)),
                        ('high_label', models.CharField(help_text='What a 5 means, e.g. “completely dreamy”.', max_length=100)),
                        ('description', models.TextField(blank=True)),
                        ('public', models.BooleanField(default=False, help_text='Everyone can see, rate and use a public slider.')),
                        ('fit', models.JSONField(blank=True, default=dict, editable=False)),
                        ('lit', models.BooleanField(default=False, editable=False)),
                        ('created', models.DateTimeField(auto_now_add=True)),
                        ('updated', models.DateTimeField(auto_now=True)),
                        ('embedding_model', models.ForeignKey(help_text='The vectors the slider learns on; ratings of tracks without one are kept but unused.', on_delete=django.db.models.deletion.PROTECT, related_name='sliders', to='embedding.embeddingmodel')),
                        ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sliders', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'ordering': ['name', 'id'],
                        'db_table': 'taste_slider',
                    },
                ),
                migrations.CreateModel(
                    name='SliderRating',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('value', models.PositiveSmallIntegerField()),
                        ('created', models.DateTimeField(auto_now_add=True)),
                        ('updated', models.DateTimeField(auto_now=True)),
                        ('slider', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='ratings', to='sliders.slider')),
                        ('track', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='slider_ratings', to='tracks.track')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='slider_ratings', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'ordering': ['-updated'],
                        'db_table': 'taste_sliderrating',
                    },
                ),
                migrations.AddConstraint(
                    model_name='slider',
                    constraint=models.UniqueConstraint(fields=('owner', 'name'), name='slider_unique_name_per_owner'),
                ),
                migrations.AddConstraint(
                    model_name='slider',
                    constraint=models.CheckConstraint(condition=models.Q(('name', ''), _negated=True), name='slider_name_not_empty'),
                ),
                migrations.AddConstraint(
                    model_name='sliderrating',
                    constraint=models.UniqueConstraint(fields=('user', 'slider', 'track'), name='slider_rating_unique'),
                ),
                migrations.AddConstraint(
                    model_name='sliderrating',
                    constraint=models.CheckConstraint(condition=models.Q(('value__gte', 1), ('value__lte', 5)), name='slider_rating_1_to_5'),
                ),
            ],
        ),
    ]
