"""A sonic path between two tracks: waypoints along the great circle from one vector to the other, and at each
waypoint the nearest track not used yet that keeps moving forward. Pure NumPy; the site fetches candidates."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from discovery.lib.vectors import unit_rows


def slerp(a, b, t) -> np.ndarray:
    """Points at fractions `t` (array) of the way along the great circle from unit vector `a` to `b`."""
    a, b = unit_rows(np.vstack([a, b]), "path ends")
    t = np.atleast_1d(np.asarray(t, dtype=np.float64))[:, None]
    cos = float(np.clip(a @ b, -1.0, 1.0))
    omega = np.arccos(cos)
    if omega < 1e-6:  # the same direction: a straight line is the great circle
        points = (1 - t) * a + t * b
    elif np.pi - omega < 1e-6:
        raise ValueError("The two tracks point in opposite directions, so no single path joins them.")
    else:
        points = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def progress(vectors, a, b) -> np.ndarray:
    """How far along the path from `a` to `b` each vector lies, as the angle of its projection onto the plane
    of a and b, in fractions of the angle between them (0 at a, 1 at b; may fall outside [0, 1])."""
    a, b = unit_rows(np.vstack([a, b]), "path ends")
    v = unit_rows(vectors, "candidates", dim=len(a))
    ortho = b - (a @ b) * a
    norm = np.linalg.norm(ortho)
    if norm < 1e-9:
        return np.zeros(len(v))
    ortho /= norm
    omega = np.arccos(np.clip(a @ b, -1.0, 1.0))
    return np.arctan2(v @ ortho, v @ a) / omega


def waypoints(a, b, steps: int) -> np.ndarray:
    """`steps` points from a to b inclusive, evenly spaced in angle."""
    if steps < 2:
        raise ValueError("A path has at least two steps: where it starts and where it ends.")
    return slerp(a, b, np.linspace(0.0, 1.0, steps))


def choose_path(
    start_id: int,
    end_id: int,
    points: np.ndarray,
    candidates: Sequence[Sequence[int]],
    vectors: Mapping[int, np.ndarray],
    artists: Mapping[int, str],
    max_per_artist: int = 2,
    avoid: frozenset[int] | set[int] = frozenset(),
) -> list[int]:
    """Track ids from `start_id` to `end_id`, one per inner waypoint where a fitting track exists.

    `points` are the waypoints (first and last are the ends), `candidates[i]` the ids nearest to points[i]
    (nearest first). At each inner waypoint the chosen track is the one most similar to it that is not used
    yet, not in `avoid`, whose artist has fewer than `max_per_artist` tracks on the path, and whose progress
    along the route is no less than the previous choice's: the path never turns back. A waypoint without
    such a track is skipped.
    """
    a, b = vectors[start_id], vectors[end_id]
    used = {start_id, end_id}
    per_artist = Counter(artists.get(i, "") for i in (start_id, end_id) if artists.get(i, ""))
    chosen = [start_id]
    last_progress = 0.0
    for point, ids in zip(points[1:-1], candidates[1:-1]):
        fitting = [
            i for i in ids
            if i not in used and i not in avoid and i in vectors
            and (not artists.get(i, "") or per_artist[artists[i]] < max_per_artist)
        ]
        if not fitting:
            continue
        matrix = np.vstack([vectors[i] for i in fitting])
        forward = progress(matrix, a, b)
        similarity = matrix @ point
        allowed = (forward >= last_progress) & (forward <= 1.0)
        if not allowed.any():
            continue
        pick = int(np.argmax(np.where(allowed, similarity, -np.inf)))
        track_id = fitting[pick]
        chosen.append(track_id)
        used.add(track_id)
        if artists.get(track_id, ""):
            per_artist[artists[track_id]] += 1
        last_progress = float(forward[pick])
    chosen.append(end_id)
    return chosen
