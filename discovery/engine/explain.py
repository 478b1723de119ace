"""Why a track is on a station's page, in one line a listener reads, e.g.
`Sounds like “Battle Epic”, your seed — closer than 99 % of the catalogue · both: orchestral, epic`.

A line names the anchor the track is like and what kind of anchor it is (a seed, a track the listener liked, or
new ground near one), says in words how close it is beside the rest of the catalogue, quotes the tags that
tell the two tracks apart from the catalogue, and ends with notes: the slider that lifted it, and a caveat when
it sounds more like a turned-down track than like its anchor.

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

# Shared tags are looked for among the strongest few of each track (as many as the vector index keeps per track),
# and at most two are shown so an explanation stays one line, on a phone too.
SHARED_TAGS_TOP_N = 8
SHARED_TAGS_SHOWN = 2
# A tag is quoted only where both tracks carry it with at least this probability. musicnn's Million Song
# Dataset tags are low even when right (an orchestral piece: instrumental 0.25, ambient 0.2, jazz 0.14; the tags
# it is not: about 0.001–0.006, as measured on real soundtracks), so the floor sits well above the noise and
# well below a tag a track is known by.
TAG_MIN_PROBABILITY = 0.05
# A tag tells something about two tracks when both carry it more than the catalogue does: its lift is
# min(p_a, p_b) / (the catalogue's mean probability of it). Below 1.5 a tag is about as common on these two as
# anywhere (musicnn gives "instrumental" and "ambient" to most of a catalogue) and saying it explains nothing.
TAG_MIN_LIFT = 1.5
# A tag the catalogue sample never carried counts as this rare rather than dividing by zero.
TAG_MEAN_FLOOR = 0.005
# On a page of one kind of music the same telling tag fits every line, and twenty lines of "both: beautiful"
# stop being read. Each time a tag was quoted on a line above, its lift is halved, so the lines further down take
# turns with the next most telling tags, which are just as true (a tag twice as telling is quoted once more).
TAG_REPEAT_FACTOR = 0.5

# Below this share of the catalogue, "closer than 30 % of the catalogue" would read as a reason against the track
# (it happens to tracks picked for novelty), so the closeness is left out.
CLOSENESS_SHOWN_FROM = 0.5

ANCHOR_KIND_WORDS = {"seed": "your seed", "like": "which you liked"}
DISLIKE_CAVEAT = "a little like one you turned down"
WHY_SEPARATOR = " · "


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


def closer_than_percent(percentile: float) -> int:
    """The whole per cent of the catalogue a track is closer than, rounded down and at most 99 (a sample cannot
    vouch for all of it): 0.995 -> 99, 0.95 -> 95, 0.5 -> 50."""
    # Rounded first, so that 0.29 (100·0.29 = 28.999999999999996) still reads 29.
    return min(99, math.floor(round(100.0 * float(percentile), 9)))


def closeness_words(percentile: float | None) -> str:
    """ "closer than 99 % of the catalogue", or "" without a sample or below CLOSENESS_SHOWN_FROM."""
    if percentile is None or percentile < CLOSENESS_SHOWN_FROM:
        return ""
    return f"closer than {closer_than_percent(percentile)} % of the catalogue"


def tag_lift(probability_a: float, probability_b: float, catalogue_mean: float | None) -> float:
    """How much more two tracks both carry a tag than the catalogue does: min(p_a, p_b) / mean."""
    return min(probability_a, probability_b) / max(catalogue_mean or 0.0, TAG_MEAN_FLOOR)


def shared_tags(
    tags_a: Mapping[str, float] | None,
    tags_b: Mapping[str, float] | None,
    catalogue_means: Mapping[str, float] | None = None,
    *,
    quoted: Mapping[str, int] | None = None,
    top_n: int = SHARED_TAGS_TOP_N,
    limit: int = SHARED_TAGS_SHOWN,
) -> tuple[str, ...]:
    """The tags that tell what two tracks have in common, most telling first, at most `limit`.

    A tag qualifies when it is among the `top_n` strongest of both tracks and both carry it with probability
    at least TAG_MIN_PROBABILITY. With `catalogue_means` (tag -> the catalogue's mean probability) it must also
    have a lift of TAG_MIN_LIFT and tags go by lift, so a tag the whole catalogue carries loses to a rarer one;
    without them (no catalogue to compare with) they go by the weaker track's probability. `quoted` (tag -> how
    many lines above quote it) discounts repeats by TAG_REPEAT_FACTOR. A tag that only repeats one already
    chosen with a longer or shorter name ("electro", "electronic") is skipped.
    """
    top_a, top_b = _top_tags(tags_a or {}, top_n), _top_tags(tags_b or {}, top_n)
    quoted = quoted or {}
    scores = {}
    for tag in top_a.keys() & top_b.keys():
        score = min(top_a[tag], top_b[tag])
        if score < TAG_MIN_PROBABILITY:
            continue
        if catalogue_means is not None:
            score = tag_lift(top_a[tag], top_b[tag], catalogue_means.get(tag))
            if score < TAG_MIN_LIFT:
                continue
        scores[tag] = score * TAG_REPEAT_FACTOR ** quoted.get(tag, 0)
    chosen: list[str] = []
    for tag in sorted(scores, key=lambda tag: (-scores[tag], tag)):
        if len(chosen) == limit:
            break
        if not any(_same_word(tag, earlier) for earlier in chosen):
            chosen.append(tag)
    return tuple(chosen)


def mentions_dislike(position: int, penalty: float, dislike_cosine: float, anchor_cosine: float, min_penalty: float):
    """Whether a track's line ends with the caveat that it is a little like a turned-down track.

    The rule: the dislike penalty only ever lowers a score, so a disliked neighbour is never the reason a track is
    on the page and is never worded as one. It is said as a caveat, last, and only when all of these hold:
    - the penalty is at least `min_penalty`, i.e. it cost the track places, and the track made the page anyway,
      on what it shares with its anchor;
    - the track is at least as close to the turned-down track as to its anchor (`dislike_cosine >=
      anchor_cosine`), so it is worth a warning; a track nearer its anchor shares most of its likeness to the
      dislike with the anchor itself, and near a dislike that would be half a page of the same warning;
    - it is not the first result (`position` 0), which is what the station stands behind most and must not open
      with a warning.
    """
    return position > 0 and penalty >= min_penalty and dislike_cosine >= anchor_cosine


def why_parts(
    anchor_title: str,
    anchor_kind: str = "seed",
    percentile: float | None = None,
    tags: Sequence[str] = (),
    *,
    for_novelty: bool = False,
    slider_note: str = "",
    dislike_caveat: bool = False,
) -> tuple[str, ...]:
    """The clauses of a why line in order: the anchor and its closeness, the shared tags, the slider note, the
    dislike caveat (each only when there is something to say). `why_text` joins them with WHY_SEPARATOR."""
    kind = ANCHOR_KIND_WORDS.get(anchor_kind, ANCHOR_KIND_WORDS["seed"])
    lead = f"New ground near “{anchor_title}”, {kind}" if for_novelty else f"Sounds like “{anchor_title}”, {kind}"
    closeness = closeness_words(percentile)
    parts = [f"{lead} — {closeness}" if closeness else lead]
    if tags:
        parts.append("both: " + ", ".join(tag.lower() for tag in tags))
    if slider_note:
        parts.append(slider_note)
    if dislike_caveat:
        parts.append(DISLIKE_CAVEAT)
    return tuple(parts)


def why_text(*args, **kwargs) -> str:
    """One line saying why a track is on the page: `why_parts` (same arguments) joined with WHY_SEPARATOR.
    Not HTML-escaped: the template escapes it."""
    return WHY_SEPARATOR.join(why_parts(*args, **kwargs))


def slider_note_for(shifts, labels, index: int) -> str:
    """The knob that lifted this track most, in words ("more dreamy"), if it lifted it noticeably."""
    if shifts is None:
        return ""
    best = int(np.argmax(shifts[:, index]))
    return labels[best] if shifts[best, index] >= SLIDER_NOTE_MIN_SHIFT else ""


def _top_tags(tags: Mapping[str, float], top_n: int) -> dict[str, float]:
    strongest = sorted(tags.items(), key=lambda item: (-item[1], item[0]))[:top_n]
    return dict(strongest)


def _same_word(tag: str, other: str) -> bool:
    a, b = tag.casefold(), other.casefold()
    return a.startswith(b) or b.startswith(a)
