"""Staff promote a model to default from the admin only once every visible track has its vectors."""

import numpy as np
import pytest
from django.conf import settings
from django.urls import reverse

from embedding.models import EmbeddingModel, TrackEmbedding
from tracks.models import Track


def unit(dim, seed):
    vector = np.random.default_rng(seed).normal(size=dim)
    return vector / np.linalg.norm(vector)


@pytest.fixture
def models(db):
    musicnn = EmbeddingModel.objects.create(name="musicnn", dim=4)
    ours = EmbeddingModel.objects.create(name="wavelength-2", dim=4)
    tracks = [Track.objects.create(title=f"t{i}", source="upload", source_key=f"{i}" * 64) for i in range(3)]
    for i, track in enumerate(tracks):
        TrackEmbedding.objects.create(track=track, model=musicnn, vector=unit(4, i))
    for i, track in enumerate(tracks[:2]):
        TrackEmbedding.objects.create(track=track, model=ours, vector=unit(4, 10 + i))
    return musicnn, ours, tracks


def promote(staff_client, model):
    return staff_client.post(
        reverse("admin:embedding_embeddingmodel_changelist"),
        {"action": "make_default", "_selected_action": [model.pk]},
        follow=True,
    ).content.decode()


@pytest.mark.django_db
class TestPromotion:
    def test_a_model_missing_vectors_waits_and_says_why(self, staff_client, models):
        musicnn, ours, _ = models
        page = promote(staff_client, ours)
        assert (
            "The wavelength-2 model cannot be the default yet: 1 visible track(s) have no wavelength-2 vector" in page
        )
        assert EmbeddingModel.default() == musicnn

    def test_once_every_visible_track_has_a_vector_it_becomes_the_default(self, staff_client, models):
        musicnn, ours, tracks = models
        Track.objects.filter(pk=tracks[2].pk).update(hidden=True)  # hidden tracks are not offered anyway
        page = promote(staff_client, ours)
        assert "The wavelength-2 model is now the default." in page
        assert "measure its threshold with bench/bench_dedup.py --model wavelength-2" in page
        assert EmbeddingModel.default() == ours
        musicnn.refresh_from_db()
        assert not musicnn.is_default


def test_wavelength_1_has_a_measured_near_duplicate_threshold():
    # Measured with bench/bench_dedup.py (docs/benchmarks.md): copies ≥ 0.900, distinct pieces ≤ 0.752.
    assert 0.752 < settings.DEDUP_MIN_COSINE["wavelength-1"] < 0.900
