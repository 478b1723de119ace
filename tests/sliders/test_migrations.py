"""Sliders moved from the wave-1 `taste` app to their own: rows made before the move must come through whole."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from taste.sliders.models import Slider, SliderRating

WAVE_ONE = [("taste", "0002_sliders"), ("sliders", None)]

pytestmark = pytest.mark.django_db(transaction=True)


def migrate(targets):
    """Migrate the test database to `targets`; returns the historical models there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    nodes = [target for target in targets if target[1] is not None]
    return MigrationExecutor(connection).loader.project_state(nodes).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.fixture(autouse=True)
def back_to_latest():
    """Whatever a test does, the database ends on the latest migrations, as every other test expects."""
    yield
    migrate(latest())


def wave_one_slider(apps):
    user = apps.get_model("auth", "User").objects.create(username="listener")
    model = apps.get_model("embedding", "EmbeddingModel").objects.create(name="musicnn", dim=8, is_default=True)
    track = apps.get_model("tracks", "Track").objects.create(
        title="Nocturne", source="folder", source_key="/music/nocturne.flac", status="ready"
    )
    slider = apps.get_model("taste", "Slider").objects.create(
        owner=user, name="dreamy", low_label="not at all", high_label="completely", public=True,
        embedding_model=model, fit={"ratings": 1, "skill": 0.4}, lit=True,
    )
    apps.get_model("taste", "SliderRating").objects.create(user=user, slider=slider, track=track, value=4)
    return slider.pk, track.pk


def test_a_wave_one_slider_and_its_ratings_survive_the_move():
    wave_one = migrate(WAVE_ONE)
    assert "taste_slider" in connection.introspection.table_names()
    slider_id, track_id = wave_one_slider(wave_one)

    migrate(latest())

    tables = connection.introspection.table_names()
    assert {"sliders_slider", "sliders_sliderrating"} <= set(tables) and "taste_slider" not in tables
    slider = Slider.objects.get(pk=slider_id)
    assert (slider.name, slider.public, slider.lit, slider.fit) == ("dreamy", True, True, {"ratings": 1, "skill": 0.4})
    rating = SliderRating.objects.get(slider=slider)
    assert (rating.track_id, rating.value, rating.user.username) == (track_id, 4, "listener")


def test_new_rows_get_fresh_ids_after_the_move():
    slider_id, _ = wave_one_slider(migrate(WAVE_ONE))
    migrate(latest())
    old = Slider.objects.get(pk=slider_id)
    new = Slider.objects.create(
        owner=old.owner, name="driving", low_label="calm", high_label="driving", embedding_model=old.embedding_model
    )
    assert new.pk > old.pk


def test_the_content_types_and_with_them_the_admin_permissions_move_along():
    before = ContentType.objects.get_by_natural_key("sliders", "slider").pk
    migrate(WAVE_ONE)
    assert ContentType.objects.filter(app_label="taste", model="slider", pk=before).exists()
    migrate(latest())
    ContentType.objects.clear_cache()
    assert ContentType.objects.get_by_natural_key("sliders", "slider").pk == before
