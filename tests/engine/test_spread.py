import numpy as np
import pytest

from discovery.engine.spread import farthest_point_order


def unit(rows):
    rows = np.asarray(rows, dtype=float)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_the_first_pick_is_the_most_typical_and_the_next_ones_reach_every_corner():
    rng = np.random.default_rng(1)
    corners = np.eye(4)
    # 20 tracks around the first direction, two around each of the others.
    rows = [corners[0] + 0.05 * rng.normal(size=4) for _ in range(20)]
    rows += [corners[c] + 0.05 * rng.normal(size=4) for c in (1, 2, 3) for _ in range(2)]
    vectors = unit(rows)
    picked = farthest_point_order(vectors, 4)
    assert picked[0] < 20  # the bulk's direction is the mean's
    assert {int(np.argmax(vectors[i] @ corners.T)) for i in picked} == {0, 1, 2, 3}


def test_it_never_picks_a_row_twice_and_stops_at_the_rows_there_are():
    vectors = unit([[1, 0], [1, 0], [0, 1]])
    assert sorted(farthest_point_order(vectors, 10)) == [0, 1, 2]
    assert farthest_point_order(vectors, 0) == [] and farthest_point_order(np.zeros((0, 2)), 3) == []


def test_it_is_deterministic():
    vectors = unit(np.random.default_rng(2).normal(size=(50, 8)))
    assert farthest_point_order(vectors, 10) == farthest_point_order(vectors.copy(), 10)


def test_a_flat_list_is_refused():
    with pytest.raises(ValueError, match="2-d"):
        farthest_point_order([1.0, 0.0], 1)
