import math

import numpy as np
import pytest

from discovery.engine.profile import ANCHOR_HALF_LIFE_S, build_anchors, focus_vector, pocket_weights, recency_weight

DAY = 24 * 3600.0


def at_angle(degrees: float) -> np.ndarray:
    """A unit vector in 2-D; two of them have cosine cos(difference of angles)."""
    radians = math.radians(degrees)
    return np.array([math.cos(radians), math.sin(radians)])


def two_pockets(focus_age_s: float = 60.0):
    """Likes in two pockets: two near 0° (the newest of all at 0°), three near 90°, and a seed near 90°."""
    return build_anchors(
        seed_ids=[1],
        seed_vectors=[at_angle(88)],
        seed_ages_s=[DAY],
        like_ids=[11, 12, 21, 22, 23],
        like_vectors=[at_angle(0), at_angle(3), at_angle(90), at_angle(92), at_angle(94)],
        like_ages_s=[focus_age_s, 2 * DAY, 3 * DAY, 3 * DAY, 3 * DAY],
    )


def test_recency_weight_halves_every_half_life():
    weights = recency_weight([0.0, 10.0, 20.0, 5.0], half_life_seconds=10.0)
    np.testing.assert_allclose(weights, [1.0, 0.5, 0.25, 2**-0.5])


def test_the_default_half_life_is_two_weeks():
    assert ANCHOR_HALF_LIFE_S == 14 * DAY
    assert recency_weight(14 * DAY) == pytest.approx(0.5)


def test_ages_in_the_future_count_as_now():
    assert recency_weight(-100.0, half_life_seconds=10.0) == 1.0


@pytest.mark.parametrize("half_life", [0.0, -1.0, math.nan, math.inf])
def test_recency_weight_needs_a_positive_finite_half_life(half_life):
    with pytest.raises(ValueError, match="half-life"):
        recency_weight([1.0], half_life_seconds=half_life)


def test_recency_weight_rejects_nan_ages():
    with pytest.raises(ValueError, match="finite"):
        recency_weight([1.0, math.nan])


def test_anchors_are_the_seeds_then_the_likes_weighted_by_recency():
    anchors = build_anchors(
        seed_ids=[5, 3],
        seed_vectors=[[1.0, 0.0], [0.0, 2.0]],
        seed_ages_s=[28 * DAY, 14 * DAY],
        like_ids=[9],
        like_vectors=[[3.0, 4.0]],
        like_ages_s=[0.0],
    )
    assert anchors.track_ids.tolist() == [5, 3, 9]
    assert anchors.kinds == ("seed", "seed", "like")
    np.testing.assert_allclose(anchors.weights, [0.25, 0.5, 1.0])
    np.testing.assert_allclose(anchors.vectors, [[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    np.testing.assert_allclose(anchors.ages_s, [28 * DAY, 14 * DAY, 0.0])


def test_a_seed_that_is_also_liked_is_one_seed_anchor_with_the_fresher_weight():
    anchors = build_anchors([5], [[1.0, 0.0]], [28 * DAY], like_ids=[5], like_vectors=[[1.0, 0.0]], like_ages_s=[0])
    assert anchors.track_ids.tolist() == [5]
    assert anchors.kinds == ("seed",)
    assert anchors.weights.tolist() == [1.0]


def test_a_station_without_seeds_or_likes_has_no_anchors():
    with pytest.raises(ValueError, match="at least one seed or liked track"):
        build_anchors([], np.zeros((0, 2)), [])


def test_every_seed_needs_an_age():
    with pytest.raises(ValueError, match="one id, one vector and one age"):
        build_anchors([1, 2], [[1.0, 0.0], [0.0, 1.0]], [0.0])


def test_likes_must_come_from_the_same_model_as_the_seeds():
    with pytest.raises(ValueError, match="3 dimensions where 2 were expected"):
        build_anchors([1], [[1.0, 0.0]], [0.0], like_ids=[2], like_vectors=[[1.0, 0.0, 0.0]], like_ages_s=[0.0])


@pytest.mark.parametrize(
    "vector, message", [([0.0, 0.0], "zero vector"), ([math.nan, 1.0], "NaN"), ([[1.0, 0.0]], "2-D array")]
)
def test_anchor_vectors_must_point_somewhere(vector, message):
    with pytest.raises(ValueError, match=message):
        build_anchors([1], [vector], [0.0])


def test_the_focus_is_the_latest_like():
    anchors = two_pockets()
    np.testing.assert_allclose(focus_vector(anchors, fallback=at_angle(45)), at_angle(0))


def test_without_likes_the_focus_is_the_fallback():
    anchors = build_anchors([1], [at_angle(30)], [0.0])
    np.testing.assert_allclose(focus_vector(anchors, fallback=[0.0, 2.0]), [0.0, 1.0])


def test_at_breadth_one_every_pocket_counts_by_recency_alone():
    anchors = two_pockets()
    np.testing.assert_allclose(pocket_weights(anchors, at_angle(0), breadth=1.0), anchors.weights)


def test_at_breadth_zero_only_the_pocket_at_the_focus_counts():
    anchors = two_pockets()
    weights = pocket_weights(anchors, at_angle(0), breadth=0.0) / anchors.weights
    near_focus = np.isin(anchors.track_ids, [11, 12])
    assert weights[anchors.track_ids == 11] == pytest.approx(1.0)
    assert weights[anchors.track_ids == 12] > 0.8
    assert weights[~near_focus].max() < 1e-30


def test_breadth_moves_weight_to_the_far_pocket_continuously():
    anchors = two_pockets()
    far = anchors.track_ids == 22
    ratios = [pocket_weights(anchors, at_angle(0), b)[far][0] / anchors.weights[far][0] for b in np.linspace(0, 1, 11)]
    assert all(a < b for a, b in zip(ratios, ratios[1:]))
    assert ratios[0] < 1e-30 and ratios[-1] == pytest.approx(1.0)
    assert 1e-6 < ratios[5] < 0.1


def test_weights_are_relative_to_the_nearest_anchor_so_they_never_all_vanish():
    anchors = build_anchors([1, 2], [at_angle(170), at_angle(190)], [0.0, 0.0])
    weights = pocket_weights(anchors, at_angle(0), breadth=0.0)
    np.testing.assert_allclose(weights, [1.0, 1.0])


@pytest.mark.parametrize("breadth", [-0.1, 1.5, math.nan])
def test_breadth_outside_zero_to_one_is_refused(breadth):
    with pytest.raises(ValueError, match="breadth must be between 0 and 1"):
        pocket_weights(two_pockets(), at_angle(0), breadth)


def test_the_focus_must_match_the_anchors_dimension():
    with pytest.raises(ValueError, match="3 dimensions where 2 were expected"):
        pocket_weights(two_pockets(), [1.0, 0.0, 0.0], 0.5)
