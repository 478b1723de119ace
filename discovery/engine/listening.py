"""What listening says about taste: early skips and tracks played through, as small score shifts.

A thumb is a verdict; a play is only a hint. Someone skips a track in its first seconds because it is wrong for
them, but also because they know it too well, or the phone rang; they let a track play through because it is
right, or because they were not listening. So both signals are weak, fade within days, and are bounded however
many plays there are: they reorder close calls on a page and never decide it.

- An **early skip** (in the first 30 s; the stations layer decides which plays count) pushes the skipped track
  and its near neighbours down by SKIP_STRENGTH·decay·exp((c - 1)/SKIP_WIDTH), c the cosine to the skipped track:
  the shape of the dislike penalty (ranking.py) at a third of its strength, so one skip moves a neighbour down
  less than a thumb-down does, and the skipped track itself can still return. It is never an exclusion.
- A **finish** (played to the end) lifts the finished track's neighbours by FINISH_STRENGTH·decay·exp((c - 1)/
  FINISH_WIDTH): weaker still, since letting a radio run is what listeners do by default.

Each candidate takes the largest push of each kind (not their sum), so a hundred skips around one pocket are no
stronger than one: a listener who wants a pocket gone has the thumb. A skip the listener undid is simply left
out of the arrays by the caller.

Pure functions over NumPy arrays, like the rest of discovery.engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from discovery.engine import _checks as checked
from discovery.engine.profile import recency_weight
from discovery.lib.vectors import unit_rows

# A third of DISLIKE_STRENGTH (0.15): at cosine 0.95 a skip costs 0.018 of score where a thumb-down costs 0.055,
# about the soft top-k temperature (0.03) — enough to let an equally good neighbour overtake, not enough to drop
# a close match off the page. The skipped track itself loses 0.05 at most.
SKIP_STRENGTH = 0.05
# The dislike penalty's width: the push stays within the skipped track's own neighbourhood (under 0.01 of score
# below cosine 0.92), so the rest of the pocket keeps its place.
SKIP_WIDTH = 0.05
# Three days: within a listening session (hours) a skip counts practically in full (an hour costs 1 %), by the
# same evening next week it keeps a fifth, after a month 0.1 %; a skip says "not now" more often than "never".
SKIP_HALF_LIFE_S = 3 * 24 * 3600.0

# Finishing is the default on a radio, so it says less than a skip: 0.02 at most (the finished track itself),
# 0.007 at cosine 0.95 — a close call's worth, about a third of the gap between a page's 1st and 20th track.
FINISH_STRENGTH = 0.02
FINISH_WIDTH = 0.05
# A week: what you listened through lately steers more than what you heard last month, but a finish fades more
# slowly than a skip, because it is the steadier (if weaker) evidence of the two.
FINISH_HALF_LIFE_S = 7 * 24 * 3600.0


@dataclass(frozen=True)
class ListeningSignals:
    """A station's recent listening, one row per track: vectors (k, d) and ages in seconds (k,), for early
    skips and for finishes. Empty by default."""

    skipped_vectors: np.ndarray | None = None
    skipped_ages_s: np.ndarray | list = field(default_factory=list)
    finished_vectors: np.ndarray | None = None
    finished_ages_s: np.ndarray | list = field(default_factory=list)


def listening_shift(candidate_vectors, signals: ListeningSignals | None) -> np.ndarray:
    """The score shift of each candidate (n,) from listening: + near tracks played through, - near early skips.

    Bounded: every value lies in [-SKIP_STRENGTH, FINISH_STRENGTH]; zeros without signals.
    """
    candidates = unit_rows(candidate_vectors, "candidate_vectors", allow_empty=True)
    if signals is None:
        return np.zeros(len(candidates))
    dim = candidates.shape[1]
    skipped = _push(
        candidates, signals.skipped_vectors, signals.skipped_ages_s, "skipped", dim,
        SKIP_STRENGTH, SKIP_WIDTH, SKIP_HALF_LIFE_S,
    )
    finished = _push(
        candidates, signals.finished_vectors, signals.finished_ages_s, "finished", dim,
        FINISH_STRENGTH, FINISH_WIDTH, FINISH_HALF_LIFE_S,
    )
    return finished - skipped


def signal_push(similarities, ages_s, strength: float, width: float, half_life_s: float) -> np.ndarray:
    """max_j strength·0.5^(age_j/half_life)·exp((s_ij - 1)/width) for each row of `similarities` (n, k);
    zeros when k is 0."""
    similarities = np.asarray(similarities, dtype=np.float64)
    if similarities.ndim != 2:
        raise ValueError(f"similarities must be a 2-D array (candidates × plays); got shape {similarities.shape}.")
    decay = recency_weight(ages_s, half_life_s).reshape(-1)
    if decay.shape != (similarities.shape[1],):
        raise ValueError(f"One age per play is needed; got {similarities.shape[1]} plays and {decay.size} ages.")
    strength, width = checked.positive(strength, "strength"), checked.positive(width, "width")
    if similarities.shape[1] == 0:
        return np.zeros(similarities.shape[0])
    # exp is monotonic, so the largest push is exp of the largest exponent: one exp per candidate, not per pair.
    with np.errstate(divide="ignore"):
        exponents = (similarities - 1.0) / width + np.log(decay)
    return strength * np.exp(exponents.max(axis=1))


def _push(candidates, vectors, ages_s, name, dim, strength, width, half_life_s) -> np.ndarray:
    played = checked.optional_rows(vectors, f"{name}_vectors", dim)
    ages = np.asarray(ages_s, dtype=np.float64).reshape(-1)
    if len(ages) != len(played):
        raise ValueError(f"Each {name} track needs one vector and one age; got {len(played)} and {len(ages)}.")
    return signal_push(candidates @ played.T, ages, strength, width, half_life_s)
