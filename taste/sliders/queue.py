"""The "rate more" queue: which tracks to ask a listener to rate next, so that each rating teaches the most.

Pure NumPy, beside the learning maths in learning.py whose `uncertainty` it uses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from discovery.lib.vectors import unit_rows
from taste.sliders.learning import SliderModel, uncertainty

# Two tracks in a "rate more" queue are at most this similar. Between distinct musicnn recordings the median
# cosine is about 0.5 and the 99th percentile about 0.9, so the queue never holds two tracks as alike as the
# closest one percent of pairs (re-releases, movements of one piece).
QUEUE_MAX_COSINE = 0.9
QUEUE_SIZE = 10


def rate_more_queue(
    model: SliderModel | None,
    candidate_vectors,
    candidate_ids: Sequence[int],
    rated_ids: Sequence[int] = (),
    k: int = QUEUE_SIZE,
    diversity_cosine: float = QUEUE_MAX_COSINE,
) -> np.ndarray:
    """Up to k track ids to ask the listener to rate next, most useful first; never an already rated id.

    With a model: the tracks whose predictions are least certain (highest `uncertainty`, i.e. least like
    anything rated), taken greedily and skipping any track whose cosine to one already taken exceeds
    `diversity_cosine`. Tracks predicted near the middle get no preference: their likely rating is a 3, which
    weighs least. Without a model: a spread over the candidates by farthest-point sampling, from the rated
    candidates (if any are among them, and skipping tracks within `diversity_cosine` of them) or else from the
    most typical candidate (nearest the candidates' mean direction); pass None until the slider has
    GATE_MIN_RATINGS ratings, since a model of a handful is unsure of everything alike. Fewer than k come back
    when too few candidates are far enough apart. Deterministic: ties go to the earlier candidate.
    """
    ids = np.asarray(candidate_ids)
    units = unit_rows(candidate_vectors, "The candidate vectors", model.dim if model is not None else None)
    if ids.shape != (units.shape[0],):
        raise ValueError(f"Each candidate needs one track id; got {units.shape[0]} vectors and {ids.size} ids.")
    if not -1.0 <= diversity_cosine <= 1.0:
        raise ValueError(f"The diversity threshold is a cosine, from -1 to 1; got {diversity_cosine}.")
    rated = np.isin(ids, np.asarray(list(rated_ids), dtype=ids.dtype))
    if model is not None:
        return _most_uncertain(model, candidate_vectors, units, ids, rated, k, diversity_cosine)
    return _farthest_points(units, ids, rated, k, diversity_cosine)


def _most_uncertain(model, vectors, units, ids, rated, k, diversity_cosine) -> np.ndarray:
    doubt = uncertainty(model, vectors)
    available = ~rated
    picked: list[int] = []
    while len(picked) < k and available.any():
        # argmax returns the first of equal maxima, so ties go to the earlier candidate.
        best = int(np.argmax(np.where(available, doubt, -np.inf)))
        picked.append(best)
        available &= units @ units[best] <= diversity_cosine
        available[best] = False
    return ids[picked]


def _farthest_points(units, ids, rated, k, diversity_cosine) -> np.ndarray:
    available = ~rated
    # nearest[i]: the cosine from candidate i to the closest track already covered (rated or picked).
    nearest = (units @ units[rated].T).max(axis=1) if rated.any() else None
    if nearest is not None:
        available &= nearest <= diversity_cosine
    picked: list[int] = []
    while len(picked) < k and available.any():
        if nearest is None:
            best = int(np.argmax(np.where(available, units @ units.mean(axis=0), -np.inf)))
        else:
            best = int(np.argmin(np.where(available, nearest, np.inf)))
        picked.append(best)
        similarity = units @ units[best]
        nearest = similarity if nearest is None else np.maximum(nearest, similarity)
        available &= similarity <= diversity_cosine
        available[best] = False
    return ids[picked]
