from pathlib import Path

import numpy as np
import pytest

from taste.sliders.learning import (
    average_ranks,
    fit_ridge,
    fit_slider,
    loo_predictions,
    on_scale,
    predict,
    rating_weight,
    slider_skill,
    spearman,
    top_by_slider,
)
from tests.vectors import random_unit_vectors

MUSICNN_SAMPLE = Path(__file__).parent.parent / "data" / "musicnn_sample.npy"


def structured_unit_vectors(count: int = 300, dim: int = 200, seed: int = 0) -> np.ndarray:
    """Unit vectors shaped like musicnn's: a shared mean direction (mean vector length about 0.7), a dozen
    clusters in a 40-d subspace with a decaying spectrum (ten directions hold about 80 % of the variance),
    a little isotropic noise; median pairwise cosine about 0.55."""
    rng = np.random.default_rng(seed)
    mean = rng.normal(size=dim)
    mean *= 0.7 / np.linalg.norm(mean)
    basis = np.linalg.qr(rng.normal(size=(dim, 40)))[0]
    scales = 0.3 * np.arange(1, 41) ** -0.7
    clusters = rng.normal(size=(12, 40)) * scales
    latent = clusters[rng.integers(0, 12, count)] + rng.normal(size=(count, 40)) * scales
    vectors = mean + latent @ basis.T + 0.01 * rng.normal(size=(count, dim))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def musicnn_sample() -> np.ndarray:
    vectors = np.load(MUSICNN_SAMPLE).astype(np.float64)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


EMBEDDINGS = [
    pytest.param(structured_unit_vectors, id="stand-in"),
    pytest.param(
        musicnn_sample,
        id="musicnn",
        marks=pytest.mark.skipif(
            not MUSICNN_SAMPLE.exists(),
            reason=f"{MUSICNN_SAMPLE} (real musicnn vectors of real music) is not in this checkout",
        ),
    ),
]


def ratings_along_hidden_direction(vectors, seed: int, noise: float = 0.5):
    """1–5 ratings of every track by how far it lies along x_a − x_b for two random tracks a, b ("sounds like
    a, not b"), with Gaussian noise of `noise` standard deviations, and the noiseless scores."""
    rng = np.random.default_rng(seed)
    a, b = rng.choice(len(vectors), 2, replace=False)
    scores = vectors @ (vectors[a] - vectors[b])
    standard = (scores - scores.mean()) / scores.std()
    ratings = np.clip(np.round(3 + 1.2 * (standard + noise * rng.normal(size=len(scores)))), 1, 5)
    return ratings, scores


def refit_without_each(vectors, targets, weights, alpha):
    """Leave-one-out by brute force: for each i, solve the weighted ridge normal equations with an explicit,
    unpenalised column of ones on the other ratings, then predict rating i."""
    count, dim = vectors.shape
    design = np.c_[np.ones(count), vectors]
    penalty = alpha * np.eye(dim + 1)
    penalty[0, 0] = 0.0
    predictions = np.empty(count)
    for left_out in range(count):
        keep = np.arange(count) != left_out
        d, w, y = design[keep], weights[keep], targets[keep]
        theta = np.linalg.solve(d.T @ (w[:, None] * d) + penalty, d.T @ (w * y))
        predictions[left_out] = design[left_out] @ theta
    return predictions


def random_problem(count, dim, seed=0):
    rng = np.random.default_rng(seed)
    # Off-centre, so that a leverage that forgot the intercept, or a mean taken without weights, would show.
    vectors = rng.normal(size=(count, dim)) + 0.5
    targets = rng.uniform(1, 5, size=count)
    weights = rng.uniform(0.2, 1.5, size=count)
    return vectors, targets, weights


@pytest.mark.parametrize("count, dim", [(12, 30), (40, 8), (10, 10)], ids=["n<d", "n>d", "n=d"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_exact_leave_one_out_equals_refitting_without_each_rating(count, dim, weighted):
    vectors, targets, weights = random_problem(count, dim)
    weights = weights if weighted else np.ones(count)
    alphas = [0.01, 1.0, 50.0]
    fast = loo_predictions(vectors, targets, weights if weighted else None, alphas)
    for row, alpha in enumerate(alphas):
        np.testing.assert_allclose(fast[row], refit_without_each(vectors, targets, weights, alpha), rtol=0, atol=1e-8)


@pytest.mark.parametrize("count, dim", [(12, 30), (40, 8)], ids=["n<d", "n>d"])
def test_the_fit_is_weighted_ridge_with_an_unpenalised_intercept(count, dim):
    vectors, targets, weights = random_problem(count, dim, seed=1)
    model = fit_ridge(vectors, targets, weights, alphas=[0.7])
    design = np.c_[np.ones(count), vectors]
    penalty = 0.7 * np.eye(dim + 1)
    penalty[0, 0] = 0.0
    theta = np.linalg.solve(design.T @ (weights[:, None] * design) + penalty, design.T @ (weights * targets))
    assert model.intercept == pytest.approx(theta[0], abs=1e-9)
    np.testing.assert_allclose(model.coef, theta[1:], atol=1e-9)
    np.testing.assert_allclose(predict(model, vectors), design @ theta, atol=1e-9)
    centred = vectors - weights @ vectors / weights.sum()
    expected = np.linalg.inv(centred.T @ (weights[:, None] * centred) + 0.7 * np.eye(dim))
    np.testing.assert_allclose(model.coef_covariance, expected, atol=1e-9)


def test_alpha_is_the_grid_value_with_the_smallest_weighted_leave_one_out_error():
    vectors, targets, weights = random_problem(30, 12, seed=2)
    targets = vectors[:, :3].sum(axis=1) + np.random.default_rng(3).normal(size=30)
    alphas = np.logspace(-2, 3, 11)
    errors = [
        weights @ (targets - refit_without_each(vectors, targets, weights, alpha)) ** 2 / weights.sum()
        for alpha in alphas
    ]
    model = fit_ridge(vectors, targets, weights, alphas)
    assert model.alpha == alphas[int(np.argmin(errors))]
    assert model.loo_error == pytest.approx(min(errors), rel=1e-9)
    np.testing.assert_allclose(
        model.loo_predictions, refit_without_each(vectors, targets, weights, model.alpha), atol=1e-8
    )


def test_ratings_weigh_more_the_further_they_are_from_the_middle():
    np.testing.assert_allclose(rating_weight([1, 2, 3, 4, 5]), [1.0, 0.625, 0.25, 0.625, 1.0])


def test_a_middle_rating_moves_the_fit_less_than_an_end_rating_equally_surprising():
    vectors = random_unit_vectors(25, 16, seed=4)
    ratings = np.random.default_rng(4).integers(1, 6, size=25)
    new_track = random_unit_vectors(1, 16, seed=5)
    before = predict(fit_slider(vectors, ratings, alphas=[1.0]), new_track)[0]
    # A linear smoother moves its prediction at the new track by (rating − before) × that track's leverage,
    # which grows with the rating's weight; dividing by the surprise leaves the influence of the weight alone.
    influence = {}
    for rating in [1, 2, 3, 4, 5]:
        after = fit_slider(np.r_[vectors, new_track], np.r_[ratings, rating], alphas=[1.0])
        influence[rating] = (predict(after, new_track)[0] - before) / (rating - before)
    assert influence[3] < influence[2] < influence[1]
    assert influence[2] == pytest.approx(influence[4], rel=1e-6)
    assert influence[1] == pytest.approx(influence[5], rel=1e-6)
    assert influence[3] < 0.5 * influence[1]


def test_extra_weights_multiply_the_rating_weights():
    vectors = random_unit_vectors(20, 8, seed=6)
    ratings = np.random.default_rng(6).integers(1, 6, size=20)
    recency = np.linspace(0.2, 1.0, 20)
    model = fit_slider(vectors, ratings, recency)
    np.testing.assert_allclose(model.weights, rating_weight(ratings) * recency)
    same = fit_ridge(vectors, ratings, rating_weight(ratings) * recency)
    np.testing.assert_allclose(model.coef, same.coef)


def test_average_ranks_share_ties():
    np.testing.assert_allclose(average_ranks([10, 20, 20, 30]), [1, 2.5, 2.5, 4])
    np.testing.assert_allclose(average_ranks([3, 1, 3, 3, 2]), [4, 1, 4, 4, 2])


def test_spearman_matches_a_worked_example_with_ties():
    # Ranks [1, 2.5, 2.5, 4, 5] and [2, 1, 3.5, 3.5, 5], both with mean 3: Σ products of deviations 7.25, each
    # Σ squares 9.5, so ρ = 7.25 / 9.5 = 29/38 (scipy.stats.spearmanr agrees).
    assert spearman([1, 2, 2, 3, 4], [2, 1, 3, 3, 5]) == pytest.approx(29 / 38, abs=1e-12)


def test_spearman_is_pearson_of_average_ranks_counted_by_brute_force():
    rng = np.random.default_rng(7)
    a, b = rng.integers(0, 4, size=30), rng.integers(0, 6, size=30)

    def ranks(values):
        return np.array([(values < v).sum() + ((values == v).sum() + 1) / 2 for v in values])

    assert spearman(a, b) == pytest.approx(np.corrcoef(ranks(a), ranks(b))[0, 1], abs=1e-12)


def test_weighted_spearman_counts_each_pair_weight_times():
    rng = np.random.default_rng(8)
    a, b = rng.integers(0, 5, size=15), rng.normal(size=15)
    weights = rng.integers(1, 4, size=15)
    repeated = spearman(np.repeat(a, weights), np.repeat(b, weights))
    assert spearman(a, b, weights) == pytest.approx(repeated, abs=1e-12)
    assert spearman(a, b, weights) != pytest.approx(spearman(a, b), abs=1e-3)


def test_spearman_of_a_constant_is_undefined():
    assert np.isnan(spearman([1, 1, 1], [1, 2, 3]))


def test_top_by_slider_returns_the_highest_predictions_best_first():
    vectors = structured_unit_vectors(200, seed=11)
    ratings, _ = ratings_along_hidden_direction(vectors, seed=11)
    model = fit_slider(vectors[:40], ratings[:40])
    ids = np.arange(1000, 1200)
    top_ids, top_values = top_by_slider(model, vectors, ids, count=15)
    expected = np.argsort(-predict(model, vectors), kind="stable")[:15]
    assert top_ids.tolist() == ids[expected].tolist()
    np.testing.assert_allclose(top_values, predict(model, vectors)[expected])
    bottom_ids, _ = top_by_slider(model, vectors, ids, count=15, highest=False)
    assert bottom_ids.tolist() == ids[np.argsort(predict(model, vectors), kind="stable")[:15]].tolist()


def test_predictions_are_shown_on_the_one_to_five_scale():
    assert [on_scale(v) for v in (-2.0, 1.0, 3.26, 5.0, 7.0)] == [1.0, 1.0, 3.26, 5.0, 5.0]


def test_predictions_from_float32_vectors_keep_the_order():
    vectors = structured_unit_vectors(300, seed=12)
    ratings, _ = ratings_along_hidden_direction(vectors, seed=12)
    model = fit_slider(vectors[:50], ratings[:50])
    np.testing.assert_allclose(predict(model, vectors.astype(np.float32)), predict(model, vectors), atol=1e-5)


def test_vectors_must_be_finite_rows():
    vectors = random_unit_vectors(4, 8)
    vectors[2, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fit_slider(vectors, [1, 2, 3, 4])
    with pytest.raises(ValueError, match="2-D"):
        fit_slider(vectors[0], [1])


def test_weights_must_be_positive_and_one_per_rating():
    vectors = random_unit_vectors(4, 8)
    with pytest.raises(ValueError, match="positive"):
        fit_slider(vectors, [1, 2, 3, 4], weights=[1, 1, 0, 1])
    with pytest.raises(ValueError, match="one weight"):
        fit_slider(vectors, [1, 2, 3, 4], weights=[1, 1])


def test_predictions_need_vectors_of_the_fitted_dimension():
    model = fit_slider(random_unit_vectors(6, 8), [1, 2, 3, 4, 5, 1])
    with pytest.raises(ValueError, match="8-dimensional"):
        predict(model, random_unit_vectors(3, 9))
    with pytest.raises(ValueError, match="NaN"):
        predict(model, np.full((2, 8), np.nan))
    with pytest.raises(ValueError, match="one track id"):
        top_by_slider(model, random_unit_vectors(3, 8), [1, 2])


@pytest.mark.parametrize(
    "ratings, message",
    [
        ([1, 2, 6, 4], "from 1 to 5"),
        ([0, 2, 3, 4], "from 1 to 5"),
        ([1, 2, np.nan, 4], "NaN"),
        ([1, 2, 3], "one rating"),
    ],
)
def test_ratings_must_be_one_per_track_from_1_to_5(ratings, message):
    vectors = random_unit_vectors(4, 8)
    with pytest.raises(ValueError, match=message):
        fit_slider(vectors, ratings)
    with pytest.raises(ValueError, match=message):
        slider_skill(vectors, ratings)
