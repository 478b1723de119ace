"""The sonic path's maths: slerp, progress along the route, and the choice of one track per step."""

import numpy as np
import pytest

from discovery.engine.path import choose_path, progress, slerp, waypoints
from tests.vectors import random_unit_vectors


def test_slerp_stays_on_the_sphere_and_ends_at_both_ends():
    a, b = random_unit_vectors(2, 16, seed=1)
    points = slerp(a, b, np.linspace(0, 1, 7))
    assert np.allclose(np.linalg.norm(points, axis=1), 1.0)
    assert np.allclose(points[0], a) and np.allclose(points[-1], b)
    angles = np.arccos(np.clip(points[:-1] @ a, -1, 1))
    assert np.all(np.diff(angles) > 0)  # evenly onwards, never back


def test_progress_is_zero_at_the_start_and_one_at_the_end():
    a, b = random_unit_vectors(2, 16, seed=2)
    assert progress(np.vstack([a, b, slerp(a, b, [0.5])[0]]), a, b) == pytest.approx([0, 1, 0.5])


def test_opposite_ends_are_refused_with_a_sentence():
    a = np.eye(4)[0]
    with pytest.raises(ValueError, match="opposite directions"):
        slerp(a, -a, [0.5])


def test_a_path_needs_two_steps():
    a, b = random_unit_vectors(2, 4)
    with pytest.raises(ValueError, match="at least two steps"):
        waypoints(a, b, 1)


@pytest.fixture
def corpus():
    vectors = random_unit_vectors(400, 12, seed=3)
    return {i: v for i, v in enumerate(vectors)}


def nearest(corpus, points, k=30):
    ids = np.array(list(corpus))
    matrix = np.vstack([corpus[i] for i in ids])
    return [list(ids[np.argsort(-(matrix @ p))[:k]]) for p in points]


def test_the_path_starts_and_ends_at_the_chosen_tracks_without_repeats_and_never_turns_back(corpus):
    points = waypoints(corpus[0], corpus[1], 12)
    artists = {i: f"artist {i % 50}" for i in corpus}
    path = choose_path(0, 1, points, nearest(corpus, points), corpus, artists, max_per_artist=2)
    assert path[0] == 0 and path[-1] == 1 and len(path) > 4
    assert len(set(path)) == len(path)
    forward = progress(np.vstack([corpus[i] for i in path[1:-1]]), corpus[0], corpus[1])
    assert np.all(np.diff(forward) >= 0) and forward.min() >= 0 and forward.max() <= 1


def test_the_path_keeps_to_the_artist_cap_and_avoids_what_it_is_told(corpus):
    points = waypoints(corpus[0], corpus[1], 20)
    candidates = nearest(corpus, points)
    artists = {i: f"artist {i % 3}" for i in corpus}
    unavoided = choose_path(0, 1, points, candidates, corpus, artists, max_per_artist=1)
    avoid = set(unavoided[1:-1])
    path = choose_path(0, 1, points, candidates, corpus, artists, max_per_artist=1, avoid=avoid)
    inner_artists = [artists[i] for i in path[1:-1]]
    ends = {artists[0], artists[1]}
    assert all(a not in ends for a in inner_artists) and len(inner_artists) == len(set(inner_artists))
    assert not avoid & set(path[1:-1])


def test_each_step_takes_the_track_nearest_its_waypoint_when_it_moves_forward():
    a, b = np.eye(3)[0], np.eye(3)[1]
    mid = slerp(a, b, [0.5])[0]
    near = mid + np.array([0, 0, 0.05])
    far = mid + np.array([0, 0, 0.5])
    corpus = {1: a, 2: b, 3: near / np.linalg.norm(near), 4: far / np.linalg.norm(far)}
    points = waypoints(a, b, 3)
    assert choose_path(1, 2, points, [[1], [4, 3], [2]], corpus, {}) == [1, 3, 2]
