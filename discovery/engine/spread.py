"""Choosing a few tracks that span a larger set (an album, an artist's work) by their sound."""

from __future__ import annotations

import numpy as np


def farthest_point_order(vectors, count: int) -> list[int]:
    """Indices of at most `count` rows of `vectors` (unit length) that spread over the set.

    The first is the row closest to the set's mean direction (the most typical one), each next the row farthest
    (in cosine) from every row chosen so far: farthest-point sampling, deterministic, ties to the lower index.
    A station seeded this way hears the whole album rather than its three most alike songs.
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2:
        raise ValueError(f"vectors must be a 2-d array, not {vectors.ndim}-d")
    rows = vectors.shape[0]
    count = min(int(count), rows)
    if count <= 0:
        return []
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms > 0, norms, 1.0)
    mean = unit.mean(axis=0)
    chosen = [int(np.argmax(unit @ mean))]
    # Distance of every row to its nearest chosen row; chosen rows sit at -inf so they are never picked again.
    nearest = 1.0 - unit @ unit[chosen[0]]
    nearest[chosen[0]] = -np.inf
    while len(chosen) < count:
        pick = int(np.argmax(nearest))
        chosen.append(pick)
        nearest = np.minimum(nearest, 1.0 - unit @ unit[pick])
        nearest[chosen] = -np.inf
    return chosen
