import numpy as np
import pytest
from django.db import IntegrityError, connection, transaction

from embedding.models import EmbeddingModel, TrackEmbedding
from tests.vectors import make_tracks, random_unit_vectors


def index_names():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'embedding_trackembedding'")
        return {name for (name,) in cursor.fetchall()}


def check_deferred_default_rule_now():
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS embedding_model_has_default IMMEDIATE")


@pytest.mark.django_db
class TestDefaultModel:
    def test_the_first_registered_model_becomes_the_default(self):
        first = EmbeddingModel.objects.create(name="musicnn", dim=200)
        second = EmbeddingModel.objects.create(name="spectral", dim=64)
        assert EmbeddingModel.default() == first
        second.refresh_from_db()
        assert not second.is_default

    def test_choosing_a_new_default_retires_the_old_one(self):
        first = EmbeddingModel.objects.create(name="musicnn", dim=200)
        second = EmbeddingModel.objects.create(name="spectral", dim=64, is_default=True)
        first.refresh_from_db()
        assert EmbeddingModel.default() == second and not first.is_default
        check_deferred_default_rule_now()

    def test_the_database_refuses_two_defaults(self):
        EmbeddingModel.objects.create(name="musicnn", dim=200)
        EmbeddingModel.objects.create(name="spectral", dim=64)
        with pytest.raises(IntegrityError, match="embedding_model_single_default"), transaction.atomic():
            EmbeddingModel.objects.update(is_default=True)

    def test_the_database_refuses_models_without_a_default(self):
        EmbeddingModel.objects.create(name="musicnn", dim=200)
        EmbeddingModel.objects.create(name="spectral", dim=64)
        EmbeddingModel.objects.update(is_default=False)
        with pytest.raises(IntegrityError, match="exactly one embedding model must be the default"):
            check_deferred_default_rule_now()

    def test_a_dimension_hnsw_cannot_index_is_refused(self):
        with pytest.raises(IntegrityError, match="embedding_model_dim_indexable"):
            EmbeddingModel.objects.create(name="huge", dim=4096)


@pytest.mark.django_db
class TestVectorStorage:
    def test_registering_a_model_creates_its_hnsw_index_and_deleting_drops_it(self):
        model = EmbeddingModel.objects.create(name="musicnn", dim=200)
        assert model.index_name in index_names()
        model.delete()
        assert model.index_name not in index_names()

    def test_a_vector_round_trips(self):
        model = EmbeddingModel.objects.create(name="musicnn", dim=200)
        (track,) = make_tracks(1)
        vector = random_unit_vectors(1, 200, seed=3)[0]
        TrackEmbedding.objects.create(track=track, model=model, vector=vector, tags={"rock": 0.25})
        stored = TrackEmbedding.objects.get(track=track, model=model)
        np.testing.assert_array_equal(np.asarray(stored.vector, dtype=np.float32), vector)
        assert stored.tags == {"rock": 0.25}

    def test_models_of_different_dimensions_coexist(self):
        musicnn = EmbeddingModel.objects.create(name="musicnn", dim=200)
        spectral = EmbeddingModel.objects.create(name="spectral", dim=64)
        (track,) = make_tracks(1)
        TrackEmbedding.objects.create(track=track, model=musicnn, vector=random_unit_vectors(1, 200)[0])
        TrackEmbedding.objects.create(track=track, model=spectral, vector=random_unit_vectors(1, 64)[0])
        assert track.embeddings.count() == 2

    def test_a_vector_of_the_wrong_dimension_is_refused(self):
        model = EmbeddingModel.objects.create(name="musicnn", dim=200)
        (track,) = make_tracks(1)
        with pytest.raises(IntegrityError, match="vector has 199 dimensions but model"):
            TrackEmbedding.objects.create(track=track, model=model, vector=random_unit_vectors(1, 199)[0])

    def test_a_vector_that_is_not_unit_length_is_refused(self):
        model = EmbeddingModel.objects.create(name="musicnn", dim=200)
        (track,) = make_tracks(1)
        with pytest.raises(IntegrityError, match="must be L2-normalised"):
            TrackEmbedding.objects.create(track=track, model=model, vector=2 * random_unit_vectors(1, 200)[0])

    def test_one_vector_per_track_and_model(self):
        model = EmbeddingModel.objects.create(name="musicnn", dim=200)
        (track,) = make_tracks(1)
        TrackEmbedding.objects.create(track=track, model=model, vector=random_unit_vectors(1, 200)[0])
        with pytest.raises(IntegrityError, match="track_embedding_unique_per_model"):
            TrackEmbedding.objects.create(track=track, model=model, vector=random_unit_vectors(1, 200, seed=1)[0])
