"""A station's model of its listener's taste: the anchors (seeds and liked tracks) and how much each counts.

Pure functions over NumPy arrays; nothing here touches Django, so the maths can be tested with hand-made vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from discovery.lib.vectors import unit_interval, unit_rows, unit_vector

# Two weeks: a station is listened to over days or weeks, and what someone liked yesterday should steer it more
# than what they liked a month ago (a month-old like keeps about a fifth of its weight), yet within one
# listening session (hours) seeds and likes weigh practically the same (an hour costs 0.2 %). The decay never
# reaches zero, so with broad pockets an old pocket of taste still counts.
ANCHOR_HALF_LIFE_S = 14 * 24 * 3600.0

# Pocket kernel: an anchor's weight is multiplied by exp(-sharpness * (c_max - c)), where c is its cosine to the
# focus and c_max the nearest anchor's. sharpness = POCKET_MAX_SHARPNESS ** (1 - breadth) - 1, so
#   breadth 0   -> sharpness 100 (bandwidth 0.01): an anchor 0.01 less similar to the focus keeps e^-1 of its
#                  weight and one 0.05 less keeps e^-5, so only the pocket around the focus counts;
#   breadth 0.5 -> sharpness 9 (bandwidth 0.11): neighbouring pockets count, distant ones fade;
#   breadth 1   -> sharpness 0: the kernel is flat and only recency tells anchors apart.
# The geometric mapping spends the knob's travel evenly on the bandwidth's order of magnitude, where a linear
# one would leave the lower half of the knob all but indistinguishable from 0.
POCKET_MAX_SHARPNESS = 101.0

ANCHOR_KINDS = ("seed", "like")


@dataclass(frozen=True)
class Anchors:
    """The tracks a station's taste is anchored on, one row each, built by `build_anchors`.

    track_ids (m,) int64; vectors (m, d) unit rows; weights (m,) recency weights in (0, 1]; ages_s (m,) seconds
    since the anchor was liked (a seed: since the station was made or the seed added); kinds: "seed" or "like".
    """

    track_ids: np.ndarray
    vectors: np.ndarray
    weights: np.ndarray
    ages_s: np.ndarray
    kinds: tuple[str, ...]

    def __post_init__(self):
        count = len(self.track_ids)
        if count == 0:
            raise ValueError("A taste profile needs at least one seed or liked track.")
        if self.vectors.ndim != 2 or self.vectors.shape[0] != count:
            raise ValueError(
                f"Anchors need one vector per track id; got {count} ids and vectors of shape {self.vectors.shape}."
            )
        for name in ("weights", "ages_s"):
            if getattr(self, name).shape != (count,):
                raise ValueError(
                    f"Anchors need one of {name} per track id; got {count} ids and shape {getattr(self, name).shape}."
                )
        if len(self.kinds) != count or any(kind not in ANCHOR_KINDS for kind in self.kinds):
            raise ValueError(f"Anchors need one kind per track id, each one of {ANCHOR_KINDS}.")

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def __len__(self) -> int:
        return len(self.track_ids)


def recency_weight(age_seconds, half_life_seconds: float = ANCHOR_HALF_LIFE_S) -> np.ndarray:
    """0.5 ** (age / half_life) for each age: 1 for now, 1/2 after one half-life.

    Ages below zero (a clock a little ahead of the database's) count as now, so no weight exceeds 1.
    """
    ages = np.asarray(age_seconds, dtype=np.float64)
    if not np.isfinite(ages).all():
        raise ValueError("Ages must be finite numbers of seconds.")
    half_life = float(half_life_seconds)
    if not (np.isfinite(half_life) and half_life > 0):
        raise ValueError(f"The half-life must be a positive number of seconds; got {half_life_seconds}.")
    return 0.5 ** (np.maximum(ages, 0.0) / half_life)


def build_anchors(
    seed_ids: Sequence[int],
    seed_vectors,
    seed_ages_s,
    like_ids: Sequence[int] = (),
    like_vectors=None,
    like_ages_s=(),
    *,
    half_life_s: float = ANCHOR_HALF_LIFE_S,
) -> Anchors:
    """The anchors of a station: its seeds (liked when the station was made or they were added) and its thumbs-up.

    Each anchor weighs its `recency_weight`. A track that is both a seed and a like becomes one "seed" anchor
    with the more recent of its two weights. Order: seeds as given, then likes as given.
    """
    seed_ids = np.asarray(seed_ids, dtype=np.int64).reshape(-1)
    like_ids = np.asarray(like_ids, dtype=np.int64).reshape(-1)
    if len(seed_ids) + len(like_ids) == 0:
        raise ValueError("A taste profile needs at least one seed or liked track.")
    seeds = unit_rows(seed_vectors, "seed_vectors") if len(seed_ids) else None
    dim = seeds.shape[1] if seeds is not None else None
    likes = unit_rows(like_vectors, "like_vectors", dim) if len(like_ids) else None
    seed_weights = recency_weight(seed_ages_s, half_life_s).reshape(-1)
    like_weights = recency_weight(like_ages_s, half_life_s).reshape(-1)
    seed_ages = np.asarray(seed_ages_s, dtype=np.float64).reshape(-1)
    like_ages = np.asarray(like_ages_s, dtype=np.float64).reshape(-1)
    for name, ids, vectors, weights in (
        ("seed", seed_ids, seeds, seed_weights),
        ("like", like_ids, likes, like_weights),
    ):
        if len(ids) and (len(vectors) != len(ids) or len(weights) != len(ids)):
            raise ValueError(
                f"Each {name} needs one id, one vector and one age; got {len(ids)} ids, {len(vectors)} vectors "
                f"and {len(weights)} ages."
            )

    rows: dict[int, list] = {}
    entries = [("seed", seed_ids, seeds, seed_weights, seed_ages), ("like", like_ids, likes, like_weights, like_ages)]
    for kind, ids, vectors, weights, ages in entries:
        for index, track_id in enumerate(ids.tolist()):
            row = rows.get(track_id)
            if row is None:
                rows[track_id] = [kind, vectors[index], weights[index], ages[index]]
            elif weights[index] > row[2]:
                row[1:] = [vectors[index], weights[index], ages[index]]
    return Anchors(
        track_ids=np.array(list(rows), dtype=np.int64),
        vectors=np.array([row[1] for row in rows.values()]),
        weights=np.array([row[2] for row in rows.values()]),
        ages_s=np.array([row[3] for row in rows.values()]),
        kinds=tuple(row[0] for row in rows.values()),
    )


def focus_vector(anchors: Anchors, fallback) -> np.ndarray:
    """The vector the tightest pocket is centred on: the most recent thumb-up, or `fallback` (the throughline)
    when the station has no likes yet."""
    likes = [index for index, kind in enumerate(anchors.kinds) if kind == "like"]
    if not likes:
        return unit_vector(fallback, "fallback", anchors.dim)
    return anchors.vectors[likes[int(np.argmin(anchors.ages_s[likes]))]]


def pocket_weights(anchors: Anchors, focus, breadth: float) -> np.ndarray:
    """Each anchor's weight for relevance: its recency weight times the pocket kernel around `focus`.

    breadth 0 keeps only the anchors nearest the focus, breadth 1 weighs every anchor by recency alone, and
    values between move continuously from one to the other (see POCKET_MAX_SHARPNESS). The nearest anchor's
    kernel is 1, so weights never all vanish; only their ratios matter to `soft_top_k`.
    """
    breadth = unit_interval(breadth, "breadth")
    focus = unit_vector(focus, "focus", anchors.dim)
    cosines = anchors.vectors @ focus
    sharpness = POCKET_MAX_SHARPNESS ** (1.0 - breadth) - 1.0
    return anchors.weights * np.exp(-sharpness * (cosines.max() - cosines))
