"""The map's projection job: PCA for a tiny corpus, UMAP for a few hundred tracks, new tracks placed without
moving the others, and rebuilds laid over the previous map."""

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from discovery.atlas.builder import build_map, refresh_map
from discovery.atlas.models import MapLayout, MapPoint
from tests.atlas.helpers import add_tracks, coordinates, map_model
from tracks.models import Track

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def map_dir(settings, tmp_path):
    settings.MAP_DIR = tmp_path / "maps"


def spread(xy: np.ndarray) -> float:
    return float(np.linalg.norm(xy.max(axis=0) - xy.min(axis=0)))


def test_a_tiny_corpus_is_mapped_by_pca_and_every_track_gets_a_point():
    model = map_model()
    ids = add_tracks(model, 12)
    layout = build_map()
    assert layout.method == MapLayout.Method.PCA
    assert set(coordinates(model)) == set(ids)
    assert layout.fitted_points == 12


def test_hidden_tracks_and_re_releases_are_left_off_the_map():
    model = map_model()
    ids = add_tracks(model, 12)
    Track.objects.filter(pk=ids[0]).update(hidden=True)
    Track.objects.filter(pk=ids[1]).update(duplicate_of_id=ids[2])
    build_map()
    assert ids[0] not in coordinates(model) and ids[1] not in coordinates(model)


def test_a_few_hundred_tracks_are_mapped_by_umap_with_clusters_kept_apart():
    model = map_model()
    ids = add_tracks(model, 240, clusters=4)
    layout = build_map(model.name)
    assert layout.method == MapLayout.Method.UMAP
    xy = coordinates(model)
    points = np.array([xy[pk] for pk in ids])
    labels = np.arange(len(ids)) % 4
    centres = np.array([points[labels == c].mean(axis=0) for c in range(4)])
    within = np.mean([np.linalg.norm(points[labels == c] - centres[c], axis=1).mean() for c in range(4)])
    between = min(np.linalg.norm(centres[a] - centres[b]) for a in range(4) for b in range(a + 1, 4))
    assert between > 2 * within  # tracks that sound alike sit together


def test_adding_tracks_leaves_every_existing_point_where_it_was_pca():
    model = map_model()
    add_tracks(model, 20)
    build_map()
    before = coordinates(model)
    new = add_tracks(model, 3, seed=5, prefix="new")
    assert refresh_map(model.name)["action"] == "placed"
    after = coordinates(model)
    assert {pk: after[pk] for pk in before} == before
    assert set(after) - set(before) == set(new)
    assert not MapPoint.objects.filter(track_id__in=new).filter(fitted=True).exists()


def test_adding_tracks_leaves_every_existing_point_where_it_was_umap():
    model = map_model()
    add_tracks(model, 160)
    build_map()
    before = coordinates(model)
    new = add_tracks(model, 8, seed=9, prefix="new")
    assert refresh_map(model.name) == {"model": model.name, "action": "placed", "points": 8}
    after = coordinates(model)
    assert {pk: after[pk] for pk in before} == before
    # A new track lands near the tracks of its own cluster: the fitted projection's transform, not noise.
    old = np.array(list(before.values()))
    assert spread(np.array([after[pk] for pk in new])) < 1.5 * spread(old)


def test_refresh_twice_changes_nothing_the_second_time():
    model = map_model()
    add_tracks(model, 20)
    refresh_map(model.name)
    first = coordinates(model)
    assert refresh_map(model.name) == {"model": model.name, "action": "placed", "points": 0}
    assert coordinates(model) == first


def test_a_rebuild_is_laid_over_the_previous_map():
    model = map_model()
    ids = add_tracks(model, 30)
    build_map()
    # The previous map, as a listener knows it: turned a quarter, mirrored, moved and scaled.
    for point in MapPoint.objects.filter(layout__model=model):
        point.x, point.y = 3 * point.y + 10, 3 * point.x - 4
        point.save()
    previous = coordinates(model)
    add_tracks(model, 3, seed=2, prefix="more")
    build_map()
    rebuilt = coordinates(model)
    old = np.array([previous[pk] for pk in ids])
    new = np.array([rebuilt[pk] for pk in ids])
    assert np.abs(new - old).max() < 0.05 * spread(old)


def test_a_corpus_that_outgrows_pca_is_rebuilt_by_umap_and_stays_aligned():
    model = map_model()
    ids = add_tracks(model, 60)
    build_map()
    previous = coordinates(model)
    add_tracks(model, 60, seed=3, prefix="more")
    assert refresh_map(model.name)["method"] == MapLayout.Method.UMAP
    rebuilt = coordinates(model)
    old = np.array([previous[pk] for pk in ids])
    new = np.array([rebuilt[pk] for pk in ids])
    # Different methods cannot agree point for point, but the aligned map keeps the old one's orientation:
    # each old track's new place is nearer its old place than a random other track's is.
    own = np.linalg.norm(new - old, axis=1).mean()
    other = np.linalg.norm(new - old[np.roll(np.arange(len(old)), 17)], axis=1).mean()
    assert own < 0.7 * other


def test_the_command_builds_the_named_model_and_says_so(capsys):
    model = map_model()
    add_tracks(model, 12)
    call_command("build_map", "--model", model.name)
    assert f"map of {model.name}: 12 tracks by PCA" in capsys.readouterr().out


def test_the_command_refuses_an_unknown_model():
    map_model()
    with pytest.raises(CommandError, match="no embedding model named 'nope'"):
        call_command("build_map", "--model", "nope")
