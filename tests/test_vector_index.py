import numpy as np
import pytest
from django.db import connection, transaction

from embedding.models import EmbeddingModel, TrackEmbedding
from embedding.vector_index import (
    nearest_neighbours,
    nearest_neighbours_many,
    nearest_neighbours_many_sql,
    nearest_neighbours_sql,
)
from tests.vectors import make_tracks, random_unit_vectors

DIM = 32


@pytest.fixture
def corpus(db):
    """Two models over the same 300 tracks, so a query must keep to its own model's vectors and index."""
    model = EmbeddingModel.objects.create(name="musicnn", dim=DIM)
    other = EmbeddingModel.objects.create(name="other", dim=DIM)
    tracks = make_tracks(300)
    vectors = random_unit_vectors(len(tracks), DIM, seed=7)
    TrackEmbedding.objects.bulk_create(
        [TrackEmbedding(track=t, model=model, vector=v) for t, v in zip(tracks, vectors)]
        + [TrackEmbedding(track=t, model=other, vector=v) for t, v in zip(tracks, -vectors)]
    )
    return model, tracks, vectors


def test_nearest_neighbours_come_back_nearest_first(corpus):
    model, tracks, vectors = corpus
    query = vectors[0] + 0.3 * vectors[1]
    query /= np.linalg.norm(query)

    found = nearest_neighbours(model, query, limit=10)

    exact_order = np.argsort(-(vectors @ query))[:10]
    assert [track_id for track_id, _ in found] == [tracks[i].pk for i in exact_order]
    distances = [distance for _, distance in found]
    assert distances == sorted(distances)
    assert distances[0] == pytest.approx(1 - float(vectors[exact_order[0]] @ query), abs=1e-5)


def test_the_query_uses_the_models_hnsw_index(corpus):
    model, _, vectors = corpus
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE embedding_trackembedding")
    literal = "[" + ",".join(str(float(x)) for x in vectors[0]) + "]"
    with transaction.atomic(), connection.cursor() as cursor:
        # On 600 rows a sequential scan is cheaper, so the planner is told to avoid one: EXPLAIN then shows
        # whether the index can serve this query at all (a mismatched expression would still seq-scan).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + nearest_neighbours_sql(model), [literal, literal, 10])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"Index Scan using {model.index_name}" in plan, plan


def test_a_query_of_the_wrong_dimension_is_refused(corpus):
    model, _, _ = corpus
    with pytest.raises(ValueError, match="has 31 dimensions; this model's vectors have 32"):
        nearest_neighbours(model, np.ones(DIM - 1) / np.sqrt(DIM - 1))


def test_a_query_with_nan_is_refused(corpus):
    model, _, _ = corpus
    with pytest.raises(ValueError, match="NaN"):
        nearest_neighbours(model, np.full(DIM, np.nan))


def test_many_queries_in_one_round_trip_match_single_queries(corpus):
    model, _, vectors = corpus
    queries = vectors[:3]
    many = nearest_neighbours_many(model, queries, limit=5)
    single = [[track_id for track_id, _ in nearest_neighbours(model, q, limit=5)] for q in queries]
    assert many == single


def test_the_many_query_uses_the_index_for_each_query(corpus):
    model, _, vectors = corpus
    literal = "[" + ",".join(str(float(x)) for x in vectors[0]) + "]"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + nearest_neighbours_many_sql(model), [[literal, literal], 5])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"Index Scan using {model.index_name}" in plan, plan


def test_vectors_come_back_exactly_and_from_the_cache_the_second_time(corpus):
    from embedding.vector_index import forget_cached_vectors, track_vectors

    model, tracks, vectors = corpus
    forget_cached_vectors()
    wanted = [tracks[3].pk, tracks[7].pk]
    first = track_vectors(model, wanted)
    np.testing.assert_array_equal(first[tracks[3].pk][0], vectors[3])
    TrackEmbedding.objects.filter(model=model, track=tracks[3]).update(vector=vectors[4])
    np.testing.assert_array_equal(track_vectors(model, wanted)[tracks[3].pk][0], vectors[3])  # cached
    forget_cached_vectors()
    np.testing.assert_array_equal(track_vectors(model, wanted)[tracks[3].pk][0], vectors[4])


def test_repeated_neighbourhoods_are_answered_from_the_cache(corpus, django_assert_num_queries):
    from embedding.vector_index import cached_nearest_neighbours_many, forget_cached_vectors

    model, _, vectors = corpus
    forget_cached_vectors()
    first = cached_nearest_neighbours_many(model, vectors[:3], limit=5)
    assert first == nearest_neighbours_many(model, vectors[:3], limit=5)
    with django_assert_num_queries(0):
        assert cached_nearest_neighbours_many(model, vectors[:3], limit=5) == first
