"""The two-tower's NumPy inference and the evaluation metrics."""

import numpy as np
import pytest

from discovery.engine.two_tower import (
    TwoTowerWeights,
    attention_weights,
    centroid_query,
    evaluate,
    item_vectors,
    ndcg_at_k,
    query_vector,
    r_precision,
)
from tests.vectors import random_unit_vectors


def untrained(dim=6, hidden=4, seed=0):
    rng = np.random.default_rng(seed)
    return TwoTowerWeights(rng.normal(size=(dim, hidden)), rng.normal(size=hidden), np.zeros(hidden),
                           np.zeros((dim, dim)), None)


def test_untrained_weights_pool_to_the_centroid():
    anchors = random_unit_vectors(5, 6)
    assert np.allclose(query_vector(untrained(), anchors), centroid_query(anchors))


def test_shapes_and_unit_length():
    rng = np.random.default_rng(1)
    weights = TwoTowerWeights(rng.normal(size=(6, 4)), rng.normal(size=4), rng.normal(size=4),
                              0.1 * rng.normal(size=(6, 6)), np.eye(6) + 0.1 * rng.normal(size=(6, 6)))
    anchors = random_unit_vectors(3, 6)
    attention = attention_weights(weights, anchors)
    assert attention.shape == (3,) and attention.sum() == pytest.approx(1.0) and (attention > 0).all()
    assert query_vector(weights, anchors).shape == (6,)
    assert np.linalg.norm(query_vector(weights, anchors)) == pytest.approx(1.0)
    items = item_vectors(weights, random_unit_vectors(10, 6))
    assert items.shape == (10, 6) and np.allclose(np.linalg.norm(items, axis=1), 1.0)
    assert TwoTowerWeights.from_json(weights.as_json()).residual == pytest.approx(weights.residual)


def test_attention_leans_on_the_anchor_it_scores_highest():
    weights = TwoTowerWeights(np.eye(2), np.zeros(2), np.array([5.0, 0.0]), np.zeros((2, 2)), None)
    anchors = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert attention_weights(weights, anchors)[0] > 0.9


def test_another_dimension_is_refused():
    with pytest.raises(ValueError, match="dimensions"):
        query_vector(untrained(dim=6), random_unit_vectors(2, 5))


def test_metrics_on_hand_made_rankings():
    assert r_precision([1, 2, 3, 4], {1, 3}) == 0.5
    assert r_precision([1, 3, 2], {1, 3}) == 1.0
    assert ndcg_at_k([5, 1], {1}) == pytest.approx(1 / np.log2(3))
    assert ndcg_at_k([1, 2], {1, 9}) == pytest.approx(1 / (1 + 1 / np.log2(3)))


def test_evaluate_finds_album_mates_better_than_chance():
    rng = np.random.default_rng(2)
    centres = random_unit_vectors(20, 16, seed=3)
    vectors = np.repeat(centres, 5, axis=0) + 0.2 * rng.normal(size=(100, 16))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(1000, 1100)
    sets = [list(ids[5 * a : 5 * a + 5]) for a in range(20)]
    result = evaluate(sets, ids, vectors, centroid_query)
    assert result.queries == 20 and result.r_precision > 0.8 and result.ndcg20 > 0.8
