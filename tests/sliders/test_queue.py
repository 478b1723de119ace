"""The rate-more queue: least certain tracks first, never a rated one, never two near copies."""

import numpy as np

from taste.sliders.learning import fit_slider, predictive_variance
from taste.sliders.queue import QUEUE_MAX_COSINE, rate_more_queue
from tests.sliders.test_learning import ratings_along_hidden_direction, structured_unit_vectors


def queue_setup(seed=13):
    vectors = structured_unit_vectors(300, seed=seed)
    ratings, _ = ratings_along_hidden_direction(vectors, seed=seed)
    ids = np.arange(500, 800)
    rated = np.arange(0, 300, 10)
    return vectors, ids, rated, fit_slider(vectors[rated], ratings[rated])


def test_the_rate_more_queue_skips_rated_tracks_and_keeps_its_picks_apart():
    vectors, ids, rated, model = queue_setup()
    queue = rate_more_queue(model, vectors, ids, rated_ids=ids[rated], k=10)
    assert len(queue) == 10
    assert not set(queue.tolist()) & set(ids[rated].tolist())
    picked = vectors[queue - 500]
    cosines = picked @ picked.T
    assert cosines[np.triu_indices(10, 1)].max() <= QUEUE_MAX_COSINE


def test_the_rate_more_queue_asks_first_about_the_least_certain_tracks():
    vectors, ids, rated, model = queue_setup()
    queue = rate_more_queue(model, vectors, ids, rated_ids=ids[rated], k=10)
    variance = predictive_variance(model, vectors)
    unrated = np.setdiff1d(np.arange(300), rated)
    assert queue[0] == ids[unrated[np.argmax(variance[unrated])]]
    assert variance[queue - 500].min() >= np.quantile(variance[unrated], 0.75)


def test_the_rate_more_queue_prefers_directions_no_rating_covers():
    # Rated tracks span the first two axes only; the candidate along the third axis is the one to ask about.
    rated_vectors = np.array([[1, 0, 0], [0, 1, 0], [0.8, 0.6, 0], [0.6, 0.8, 0]], dtype=float)
    model = fit_slider(rated_vectors, [1, 5, 2, 4], alphas=[0.1])
    candidates = np.array([[0.9, 0.1, 0.0], [0.0, 0.0, 1.0], [0.1, 0.9, 0.0]])
    candidates /= np.linalg.norm(candidates, axis=1, keepdims=True)
    assert rate_more_queue(model, candidates, [7, 8, 9], k=1).tolist() == [8]
    all_alike = fit_slider(rated_vectors, [5, 5, 5, 5], alphas=[0.1])
    assert all_alike.residual_variance == 0.0
    assert rate_more_queue(all_alike, candidates, [7, 8, 9], k=1).tolist() == [8]


def test_the_rate_more_queue_never_offers_two_near_copies():
    vectors = structured_unit_vectors(40, seed=14)
    copies = vectors[:5] + 0.001 * np.random.default_rng(14).normal(size=(5, 200))
    candidates = np.r_[vectors, copies]
    ids = np.arange(len(candidates))
    model = fit_slider(vectors[10:30], ratings_along_hidden_direction(vectors, seed=14)[0][10:30])
    for queue in (rate_more_queue(model, candidates, ids, k=40), rate_more_queue(None, candidates, ids, k=40)):
        chosen = candidates[queue] / np.linalg.norm(candidates[queue], axis=1, keepdims=True)
        assert (chosen @ chosen.T)[np.triu_indices(len(queue), 1)].max() <= QUEUE_MAX_COSINE


def test_before_any_model_the_queue_spreads_over_the_candidates():
    vectors = structured_unit_vectors(300, seed=15)
    ids = np.arange(300)
    queue = rate_more_queue(None, vectors, ids, rated_ids=[0, 1, 2], k=10)
    assert len(queue) == 10 and not {0, 1, 2} & set(queue.tolist())
    picked = vectors[queue]
    random_ten = vectors[np.random.default_rng(15).choice(np.arange(3, 300), 10, replace=False)]
    # Farthest-point sampling: the picks are further apart than ten tracks drawn at random.
    pairs = np.triu_indices(10, 1)
    assert (picked @ picked.T)[pairs].mean() < (random_ten @ random_ten.T)[pairs].mean()
    assert rate_more_queue(None, vectors, ids, rated_ids=[0, 1, 2], k=10).tolist() == queue.tolist()
