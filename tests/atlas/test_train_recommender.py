"""The two-tower recommender: a tiny training run on albums beats a random ranker, its NumPy export answers as
torch does, the command prints the contract's lines, and a station uses it only where it won."""

import json
import os
import re

import numpy as np
import pytest
from django.core.management import call_command

from discovery.atlas.builder import mappable_vectors
from discovery.atlas.recommender import anchor_sets, train_recommender
from discovery.atlas.two_tower_model import TwoTowerConfig, export, torch_query, train
from discovery.engine.two_tower import TwoTowerWeights, evaluate, query_vector
from embedding.models import EmbeddingModel, TrackEmbedding
from taste.stations.constellations import constellation, recommender_path
from taste.stations.recommendations import recommendations
from taste.stations.services import create_station
from tracks.models import Track

pytestmark = pytest.mark.django_db
DIM = 16


@pytest.fixture(autouse=True)
def recommender_dir(settings, tmp_path):
    settings.RECOMMENDER_DIR = tmp_path / "recommenders"


def albums(count=60, size=6, seed=0):
    """`count` albums of `size` tracks each, every album around its own direction."""
    rng = np.random.default_rng(seed)
    model = EmbeddingModel.objects.create(name="tt-model", dim=DIM, is_default=True)
    centres = rng.normal(size=(count, DIM))
    tracks = Track.objects.bulk_create(
        Track(title=f"A{a} T{i}", artist=f"Artist {a}", album=f"Album {a}", audio_path=f"/m/a{a}/{i}.ogg",
              source="folder", source_key=f"a{a}-{i}", status=Track.Status.READY)
        for a in range(count) for i in range(size)
    )
    TrackEmbedding.objects.bulk_create(
        TrackEmbedding(track=t, model=model, vector=(v := centres[k // size] + 0.5 * rng.normal(size=DIM))
                       / np.linalg.norm(v))
        for k, t in enumerate(tracks)
    )
    return model, [t.pk for t in tracks]


def test_albums_and_stations_are_the_training_sets(owner):
    model, ids = albums(count=4, size=3)
    create_station(owner, ids[:3])
    sets = anchor_sets(set(ids))
    assert len([k for k in sets if k.startswith("album:")]) == 4
    assert [k for k in sets if k.startswith("station:")] and sets[next(k for k in sets if "station" in k)] == ids[:3]


def test_a_tiny_training_run_beats_a_random_ranker_and_the_export_matches_torch():
    model, _ = albums()
    ids, vectors = mappable_vectors(model)
    sets = [list(range(6 * a, 6 * a + 6)) for a in range(60)]
    config = TwoTowerConfig(dim=DIM, query_epochs=15, item_epochs=5, batch_size=32)
    query, track, report = train(vectors, sets[:45], config)
    assert report.query_epochs >= 1 and len(report.losses) == report.query_epochs + report.item_epochs
    weights = TwoTowerWeights.from_json(export(query, track))
    assert weights.attention_in.shape == (DIM, config.hidden) and weights.residual.shape == (DIM, DIM)
    anchors = vectors[sets[50][:3]]
    assert np.allclose(query_vector(weights, anchors), torch_query(query, anchors), atol=1e-5)
    held = [[int(ids[r]) for r in s] for s in sets[45:]]
    trained = evaluate(held, ids, vectors, lambda a: query_vector(weights, a))
    rng = np.random.default_rng(5)
    random = evaluate(held, ids, vectors, lambda a: rng.normal(size=DIM))
    assert trained.ndcg20 > 3 * random.ndcg20 + 0.1 and trained.r_precision > random.r_precision + 0.2


def test_the_command_prints_both_lines_and_the_verdict(capsys):
    model, _ = albums()
    call_command("train_recommender", "--epochs", "6")
    out = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"two-tower r_precision=\d\.\d{4} ndcg20=\d\.\d{4}", out[0])
    assert re.fullmatch(r"centroid r_precision=\d\.\d{4} ndcg20=\d\.\d{4}", out[1])
    assert out[2] == constellation(model.name).reason and "chooses what plays next" in out[2]


def test_a_station_names_the_two_tower_only_where_it_won(owner, settings):
    model, ids = albums(count=10, size=6)
    station = create_station(owner, ids[:2])
    result = train_recommender(model.name, epochs=3)
    found = constellation(model.name)
    whys = [rec.ranked.why for rec in recommendations(station)]
    assert whys
    if result["beats_centroid"]:
        assert found.uses_two_tower and all("two-tower" in why for why in whys)
    else:
        assert not found.uses_two_tower and not any("two-tower" in why for why in whys)
        assert "has not earned its place" in found.reason


def test_a_winning_recommender_picks_the_stations_candidates(owner, settings):
    model, ids = albums(count=10, size=6)
    station = create_station(owner, ids[:2])
    identity = TwoTowerWeights(np.zeros((DIM, 4)), np.zeros(4), np.zeros(4), np.zeros((DIM, DIM)), None)
    path = recommender_path(model.name)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"beats_centroid": True, "verdict": "won", "weights": identity.as_json()}))
    assert all(rec.ranked.why.endswith("found by the two-tower recommender") for rec in recommendations(station))
    path.write_text(json.dumps({"beats_centroid": False, "verdict": "lost", "weights": identity.as_json()}))
    os.utime(path, (1, 1))  # a new stamp, as a rewrite a second later would have
    assert not any("two-tower" in rec.ranked.why for rec in recommendations(station))


def test_too_few_sets_is_said_in_words():
    albums(count=1, size=3)
    with pytest.raises(ValueError, match="Too few sets"):
        train_recommender(epochs=1)
