"""Why a track is on a station's page, in one line: the anchor it is like, how close it is to that anchor
beside the rest of the catalogue ("top 1%"), the tags both share, and the notes about dislikes, novelty and knobs.

Pure functions over NumPy arrays and tag dicts. `rank_candidates` calls them only for the tracks it picked,
after scoring; which anchor explains a track (`why_anchor`) stays in ranking.py beside `soft_top_k`, whose
formula it inverts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from discovery.lib.vectors import rows_and_norms, unit_rows

# A slider is named in the why line when it moved the track by at least this much score.
SLIDER_NOTE_MIN_SHIFT = 0.01
# Tags both tracks share: those in the top five of each (the tags a listener would recognise the track by), at
# most three shown so an explanation stays one line.
SHARED_TAGS_TOP_N = 5
SHARED_TAGS_SHOWN = 3


def corpus_percentile(cosines, anchor_vectors, corpus_sample) -> np.ndarray:
    """For each pair (track cosine c_i to anchor a_i), the share (0–1) of the corpus sample whose cosine to a_i is
    below c_i: 0.99 means the track is closer to its anchor than 99 % of the corpus."""
    cosines = np.asarray(cosines, dtype=np.float64).reshape(-1)
    anchors = unit_rows(anchor_vectors, "anchor_vectors")
    if len(anchors) != len(cosines):
        raise ValueError(f"Each cosine needs its anchor; got {len(cosines)} cosines and {len(anchors)} anchors.")
    sample, sample_norms = rows_and_norms(corpus_sample, "corpus_sample", anchors.shape[1])
    return corpus_percentile_from_norms(cosines, anchors, np.arange(len(anchors)), sample, sample_norms)


def corpus_percentile_from_norms(
    cosines: np.ndarray, anchors: np.ndarray, which: np.ndarray, sample: np.ndarray, sample_norms: np.ndarray
) -> np.ndarray:
    """`corpus_percentile` on checked input: unit-row `anchors`, `which[i]` the anchor of `cosines[i]`, and the
    sample with its row norms as `rows_and_norms` returns them."""
    # Dividing the (r, k) products rather than normalising the (r, d) sample saves most of the work.
    sample_cosines = (sample @ anchors.T) / sample_norms[:, None]
    return (sample_cosines[:, which] < cosines).mean(axis=0)


def top_percent(percentile: float) -> int:
    """The "top N %" a percentile falls in, rounded up and at least 1: 0.995 -> 1, 0.95 -> 5, 0.5 -> 50."""
    # Rounded first, so that 1 - 0.99 = 0.010000000000000009 still reads "top 1%".
    return max(1, math.ceil(round(100.0 * (1.0 - float(percentile)), 9)))


def shared_tags(
    tags_a: Mapping[str, float] | None,
    tags_b: Mapping[str, float] | None,
    top_n: int = SHARED_TAGS_TOP_N,
    limit: int = SHARED_TAGS_SHOWN,
) -> tuple[str, ...]:
    """Tags in the top `top_n` of both tracks, strongest product of probabilities first, at most `limit`."""
    top_a, top_b = _top_tags(tags_a or {}, top_n), _top_tags(tags_b or {}, top_n)
    common = sorted(top_a.keys() & top_b.keys(), key=lambda tag: (-top_a[tag] * top_b[tag], tag))
    return tuple(common[:limit])


def why_text(
    anchor_title: str,
    cosine: float,
    percentile: float | None = None,
    tags: Sequence[str] = (),
    *,
    near_dislike: bool = False,
    for_novelty: bool = False,
    slider_note: str = "",
) -> str:
    """One line saying why a track is on the page, e.g. `like “Seed A” (0.91, top 1%) — both: guitar, rock`.

    Not HTML-escaped: the template escapes it.
    """
    figures = f"{cosine:.2f}" if percentile is None else f"{cosine:.2f}, top {top_percent(percentile)}%"
    text = f"like “{anchor_title}” ({figures})"
    if tags:
        text += " — both: " + ", ".join(tags)
    if for_novelty:
        text += " · new ground"
    if near_dislike:
        text += " · close to one you turned down"
    if slider_note:
        text += f" · {slider_note}"
    return text


def slider_note_for(shifts, labels, index: int) -> str:
    """The knob that lifted this track most, if it lifted it noticeably."""
    if shifts is None:
        return ""
    best = int(np.argmax(shifts[:, index]))
    return labels[best] if shifts[best, index] >= SLIDER_NOTE_MIN_SHIFT else ""


def _top_tags(tags: Mapping[str, float], top_n: int) -> dict[str, float]:
    strongest = sorted(tags.items(), key=lambda item: (-item[1], item[0]))[:top_n]
    return dict(strongest)
