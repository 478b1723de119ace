"""Scoring, ordering and explaining a station's candidate tracks, as pure functions over NumPy arrays.

The web layer fetches a few hundred candidates by nearest-neighbour SQL (around the throughline and around each
anchor), then calls `rank_candidates` once; it filters, scores, diversifies and explains them in a few
milliseconds, so thumbs and knobs can re-rank the list at once. Every vector is a row from one embedding model;
rows are normalised again here, so every dot product is a cosine.

The wording of the explanations lives in explain.py and the argument checks in _checks.py, so that this file
holds the scoring maths and the order `rank_candidates` applies it in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from discovery.engine import _checks as checked
from discovery.engine.explain import (
    WHY_SEPARATOR,
    corpus_percentile_from_norms,
    mentions_dislike,
    shared_tags,
    slider_note_for,
    why_parts,
)
from discovery.engine.listening import ListeningSignals, listening_shift
from discovery.engine.profile import Anchors, focus_vector, pocket_weights
from discovery.lib.vectors import rows_and_norms, unit_interval, unit_rows, unit_vector

# Soft top-k temperature, in cosine units. Relevance is τ·log Σ p_j exp(s_j/τ). An anchor matched 0.1 worse than
# a candidate's best adds at most e^(-0.1/τ) ≈ 4 % of the best one's share, so relevance stays close to the best
# match and one strong match beats many weak ones; yet halving an anchor's weight costs its matches τ·ln 2 ≈ 0.02
# of cosine, small beside the spread of a few hundred neighbours but enough for recency and pockets to decide
# close calls. A first guess, to tune on real stations.
RELEVANCE_TEMPERATURE = 0.03

# A disliked track costs a candidate DISLIKE_STRENGTH·exp((c - 1)/DISLIKE_WIDTH) of score, c its cosine to the
# nearest dislike: 0.15 for a copy, 0.055 at c = 0.95, 0.02 at c = 0.9, under 0.01 below 0.86. The width keeps
# the push inside the disliked track's own neighbourhood (distinct musicnn recordings come as close as 0.97, the
# dedup threshold), so the rest of a pocket the user still likes keeps its place; the strength, five times the
# soft top-k temperature, is enough to move the nearest neighbours of a dislike well down the page. Both are first
# guesses, to tune on real stations.
DISLIKE_STRENGTH = 0.15
DISLIKE_WIDTH = 0.05
# Smaller pushes rarely change a position, so the explanation does not mention them.
DISLIKE_NOTE_MIN_PENALTY = 0.01

# score = (1 - a)·relevance + a·novelty - penalty with a = NOVELTY_SHARE_AT_FULL_EXPLORE·explore. Novelty is
# roughly 1 - relevance for tracks near the anchors, so any share above 0.5 lets far tracks overtake near ones;
# 0.7 does that clearly at explore 1 while keeping 30 % on relevance, so pockets (breadth) still steer.
NOVELTY_SHARE_AT_FULL_EXPLORE = 0.7
# MMR's λ = 0.85 - 0.5·explore: at explore 0 a page is mostly the closest tracks with near-copies spread out;
# at explore 1 (λ = 0.35) diversity outweighs relevance and the page fans out across the candidate pool.
MMR_LAMBDA_AT_NO_EXPLORE = 0.85
MMR_LAMBDA_DROP_AT_FULL_EXPLORE = 0.5

PAGE_SIZE = 20
MAX_PER_ARTIST = 2
# A slider knob at full weight moves a track by this much score per standard deviation of the slider's
# prediction: about the relevance gap between the 1st and the 20th candidate of a typical page, so a
# knob can reorder a page without replacing it with tracks that have nothing to do with the seeds.
SLIDER_STEER_SCALE = 0.02

# Seeds whose centroid is shorter than this point in opposite directions: no throughline to follow.
THROUGHLINE_MIN_NORM = 1e-6


@dataclass(frozen=True)
class RankingInput:
    """Everything `rank_candidates` needs for one page.

    candidate_ids (n,) and candidate_vectors (n, d): the union of the nearest-neighbour queries; an id that
    appears twice counts once, at its first occurrence. candidate_artists (n,): an artist key per candidate (str
    or int); None or "" means unknown and is never capped. candidate_tags (n,) and anchor_tags (m,): tag ->
    probability dicts, {} where a model has no tags. tag_means: tag -> the catalogue's mean probability
    (embedding.samples.corpus_tag_means), so that the tags a why line quotes are the telling ones; None quotes the
    most probable. anchor_titles (m,): the titles the explanations quote.
    near_duplicate_cosine: the embedding model's re-release threshold (settings.DEDUP_MIN_COSINE).
    throughline: None computes it from the seed anchors. focus: None takes the latest like, else the throughline.
    disliked_vectors (p, d): thumbed-down tracks (their ids belong in thumbed_ids too). shown_vectors (q, d):
    tracks already displayed, which novelty moves away from. corpus_sample (r, d): random corpus tracks for the
    "closer than 99 % of the catalogue" words; None leaves them out. listening: the station's early skips and
    finishes, weak score shifts (listening.py); a skipped track is never excluded for it.
    """

    candidate_ids: Sequence[int]
    candidate_vectors: np.ndarray
    anchors: Anchors
    anchor_titles: Sequence[str]
    near_duplicate_cosine: float
    candidate_artists: Sequence | None = None
    candidate_tags: Sequence[Mapping[str, float]] | None = None
    anchor_tags: Sequence[Mapping[str, float]] | None = None
    throughline: np.ndarray | None = None
    focus: np.ndarray | None = None
    disliked_vectors: np.ndarray | None = None
    shown_vectors: np.ndarray | None = None
    seed_ids: Sequence[int] = ()
    thumbed_ids: Sequence[int] = ()
    breadth: float = 0.5
    explore: float = 0.2
    page_size: int = PAGE_SIZE
    max_per_artist: int | None = MAX_PER_ARTIST
    temperature: float = RELEVANCE_TEMPERATURE
    corpus_sample: np.ndarray | None = None
    tag_means: Mapping[str, float] | None = None
    sliders: Sequence[SliderSteer] = ()
    listening: ListeningSignals | None = None


@dataclass(frozen=True)
class SliderSteer:
    """A lit slider used as a knob: `weight` in [-1, 1] (more / less of it) and the slider's prediction for each
    candidate, standardised over the catalogue (0 = typical, +1 = one standard deviation more of it)."""

    label: str  # the slider's word, e.g. "dreamy"
    weight: float
    standardised_predictions: np.ndarray  # (n,), aligned with candidate_ids


@dataclass(frozen=True)
class RankedTrack:
    """One result, in page order.

    score: the blended score MMR ranked by (relevance, novelty, dislike penalty). similarity: cosine to the
    throughline. why_anchor_id / why_anchor_cosine: the anchor that contributes most to the relevance, and the
    cosine to it. corpus_percentile: share of the corpus sample less similar to that anchor (None without a
    sample). near_dislike: a dislike penalty moved it (the why line says so only as a caveat, under the rule of
    explain.mentions_dislike). for_novelty: it made the page through novelty, not relevance alone. why is
    why_parts joined with " · ".
    """

    track_id: int
    score: float
    similarity: float
    why: str
    why_anchor_id: int
    why_anchor_cosine: float
    corpus_percentile: float | None
    shared_tags: tuple[str, ...]
    near_dislike: bool
    for_novelty: bool
    slider_note: str = ""  # e.g. "more dreamy" when a slider knob moved the track
    why_parts: tuple[str, ...] = ()  # the anchor and its closeness, the shared tags, the slider note, a caveat


def throughline_vector(seed_vectors) -> np.ndarray:
    """What the seeds share: the unit-length centroid of the unit-length seeds, shape (d,).

    One seed is its own throughline; a single (d,) vector counts as one seed.
    """
    seeds = np.asarray(seed_vectors, dtype=np.float64)
    if seeds.ndim == 1:
        seeds = seeds[None, :]
    centroid = unit_rows(seeds, "seed_vectors").mean(axis=0)
    norm = np.linalg.norm(centroid)
    if norm < THROUGHLINE_MIN_NORM:
        raise ValueError(
            "The seeds point in opposite directions and share nothing; pick seeds with something in common."
        )
    return centroid / norm


def soft_top_k(similarities, weights, temperature: float = RELEVANCE_TEMPERATURE) -> np.ndarray:
    """Relevance of each candidate (n,) to weighted anchors: τ·log Σ_j (w_j/Σw)·exp(s_ij/τ).

    It lies between the weighted mean and the maximum of a row's similarities (anchors of weight 0 ignored):
    near the maximum as τ → 0, so one strong match outweighs many weak ones, and near the weighted mean as τ
    grows.
    """
    similarities = np.asarray(similarities, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if similarities.ndim != 2:
        raise ValueError(f"similarities must be a 2-D array (candidates × anchors); got shape {similarities.shape}.")
    if weights.shape != (similarities.shape[1],):
        raise ValueError(
            f"weights needs one weight per anchor ({similarities.shape[1]}); got shape {weights.shape}."
        )
    if not (np.isfinite(similarities).all() and np.isfinite(weights).all()):
        raise ValueError("similarities and weights must not contain NaN or infinite values.")
    if (weights < 0).any() or weights.sum() <= 0:
        raise ValueError("Anchor weights must be non-negative with at least one above zero.")
    temperature = checked.positive(temperature, "temperature")
    with np.errstate(divide="ignore"):
        log_shares = np.log(weights / weights.sum())
    logits = similarities / temperature + log_shares
    peak = logits.max(axis=1, keepdims=True)
    return temperature * (peak[:, 0] + np.log(np.exp(logits - peak).sum(axis=1)))


def dislike_penalty(
    candidate_vectors, disliked_vectors, strength: float = DISLIKE_STRENGTH, width: float = DISLIKE_WIDTH
) -> np.ndarray:
    """How far each candidate (n,) is pushed down for being near a thumbed-down track:
    strength·max_j exp((cos_ij - 1)/width); zeros when nothing is disliked."""
    candidates = unit_rows(candidate_vectors, "candidate_vectors", allow_empty=True)
    disliked = checked.optional_rows(disliked_vectors, "disliked_vectors", candidates.shape[1])
    strength, width = checked.positive(strength, "strength"), checked.positive(width, "width")
    return _penalty_from_similarities(candidates @ disliked.T, strength, width)


def novelty(candidate_vectors, known_vectors) -> np.ndarray:
    """1 - the largest cosine from each candidate (n,) to anything the user already knows (seeds, likes, tracks
    shown); ones when nothing is known yet."""
    candidates = unit_rows(candidate_vectors, "candidate_vectors", allow_empty=True)
    known = checked.optional_rows(known_vectors, "known_vectors", candidates.shape[1])
    return _novelty_from_similarities(candidates @ known.T)


def explore_novelty_share(explore: float) -> float:
    """The weight novelty gets in the score; relevance gets the rest."""
    return NOVELTY_SHARE_AT_FULL_EXPLORE * unit_interval(explore, "explore")


def mmr_lambda(explore: float) -> float:
    """MMR's relevance-versus-diversity trade for an explore knob in [0, 1]: 0.85 at 0, 0.35 at 1."""
    return MMR_LAMBDA_AT_NO_EXPLORE - MMR_LAMBDA_DROP_AT_FULL_EXPLORE * unit_interval(explore, "explore")


def blend_scores(relevance, novelty_scores, penalty, explore: float) -> np.ndarray:
    """(1 - a)·relevance + a·novelty - penalty, with a = `explore_novelty_share(explore)`; at explore 0 the score
    is relevance less the dislike penalty."""
    share = explore_novelty_share(explore)
    return (1.0 - share) * np.asarray(relevance) + share * np.asarray(novelty_scores) - np.asarray(penalty)


def mmr(
    candidate_vectors,
    scores,
    k: int,
    lam: float,
    *,
    artists: Sequence | None = None,
    max_per_artist: int | None = None,
    near_duplicate_cosine: float | None = None,
) -> list[int]:
    """Indices of up to k candidates by maximal marginal relevance, best first.

    Greedy: each step takes the candidate maximising lam·score - (1 - lam)·(largest cosine to those already
    taken); ties go to the lowest index, so lam = 1 is a stable sort by score. The rank-dependent filters apply
    as it goes: a candidate within `near_duplicate_cosine` of one taken is dropped, and so are an artist's
    remaining tracks once `max_per_artist` of theirs are taken (artist None or "" is never capped).
    O(k·n·d): one matrix-vector product per step.
    """
    vectors = unit_rows(candidate_vectors, "candidate_vectors", allow_empty=True)
    scores = np.asarray(scores, dtype=np.float64)
    count = vectors.shape[0]
    if scores.shape != (count,):
        raise ValueError(f"scores needs one score per candidate ({count}); got shape {scores.shape}.")
    if not np.isfinite(scores).all():
        raise ValueError("scores must not contain NaN or infinite values.")
    cap = None if max_per_artist is None else checked.whole_number(max_per_artist, "max_per_artist", minimum=1)
    duplicate_cosine = None
    if near_duplicate_cosine is not None:
        duplicate_cosine = unit_interval(near_duplicate_cosine, "near_duplicate_cosine")
    return _greedy_mmr(
        vectors,
        scores,
        checked.whole_number(k, "k", minimum=0),
        unit_interval(lam, "lam"),
        checked.artist_codes(artists, count),
        cap,
        duplicate_cosine,
    )


def _greedy_mmr(
    vectors: np.ndarray,
    scores: np.ndarray,
    k: int,
    lam: float,
    artist_codes: np.ndarray,
    cap: int | None,
    duplicate_cosine: float | None,
) -> list[int]:
    available = np.ones(len(scores), dtype=bool)
    largest_cosine = np.zeros(len(scores))
    artist_counts: dict[int, int] = {}
    relevance_part = lam * scores
    picks: list[int] = []
    while len(picks) < k and available.any():
        objective = relevance_part - (1.0 - lam) * largest_cosine if picks else relevance_part.copy()
        objective[~available] = -np.inf
        best = int(np.argmax(objective))
        picks.append(best)
        available[best] = False
        cosines = vectors @ vectors[best]
        largest_cosine = np.maximum(largest_cosine, cosines) if len(picks) > 1 else cosines
        if duplicate_cosine is not None:
            available &= cosines < duplicate_cosine
        code = artist_codes[best]
        if cap is not None and code >= 0:
            artist_counts[code] = artist_counts.get(code, 0) + 1
            if artist_counts[code] >= cap:
                available &= artist_codes != code
    return picks


def filter_candidates(
    candidate_ids, candidate_vectors, excluded_ids, judged_vectors, near_duplicate_cosine: float
) -> np.ndarray:
    """Indices (ascending) of the candidates worth ranking: not excluded (seeds, anything thumbed up or down),
    not a repeat of an earlier candidate id, and not a near-duplicate (cosine ≥ `near_duplicate_cosine`) of a
    judged track (seeds, likes, dislikes), since a re-release is the same recording the user already knows."""
    ids = checked.ids(candidate_ids, "candidate_ids")
    vectors = unit_rows(candidate_vectors, "candidate_vectors", allow_empty=True)
    checked.same_count(ids, vectors)
    judged = checked.optional_rows(judged_vectors, "judged_vectors", vectors.shape[1])
    return _worth_ranking(
        ids,
        checked.ids(excluded_ids, "excluded_ids"),
        vectors @ judged.T,
        unit_interval(near_duplicate_cosine, "near_duplicate_cosine"),
    )


def _worth_ranking(
    ids: np.ndarray, excluded_ids: np.ndarray, judged_cosines: np.ndarray, near_duplicate_cosine: float
) -> np.ndarray:
    keep = ~np.isin(ids, excluded_ids)
    first = np.zeros(len(ids), dtype=bool)
    first[np.unique(ids, return_index=True)[1]] = True
    keep &= first
    if judged_cosines.shape[1]:
        keep &= judged_cosines.max(axis=1) < near_duplicate_cosine
    return np.flatnonzero(keep)


def why_anchor(similarities, weights, temperature: float = RELEVANCE_TEMPERATURE) -> np.ndarray:
    """For each candidate (n,), the index of the anchor contributing most to its `soft_top_k`:
    argmax_j w_j·exp(s_ij/τ), ties to the lowest index; anchors of weight 0 never win.

    Here rather than in explain.py: it is soft_top_k's sum read term by term, so the two change together.
    """
    similarities = np.asarray(similarities, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if similarities.ndim != 2 or weights.shape != (similarities.shape[1],):
        raise ValueError(
            f"similarities (candidates × anchors) and weights (anchors,) do not match: {similarities.shape} and "
            f"{weights.shape}."
        )
    if not (weights > 0).any():
        raise ValueError("At least one anchor weight must be above zero.")
    temperature = checked.positive(temperature, "temperature")
    with np.errstate(divide="ignore"):
        return np.argmax(similarities / temperature + np.log(weights), axis=1)


def rank_candidates(request: RankingInput) -> list[RankedTrack]:
    """One page of results for a station, best first: filtered, scored, diversified by MMR and explained.

    Deterministic for the same input. Raises ValueError, with a sentence saying what is wrong, on malformed input:
    NaN or zero vectors, mismatched shapes or lengths, knobs outside [0, 1].

    Its matrix products are small, and run fastest on one BLAS thread: with OPENBLAS_NUM_THREADS=1 the median for
    500 candidates × 30 anchors × 200 dimensions was 1.8 ms, with a thread per core on a busy two-core machine
    4 to 30 ms.
    """
    anchors = request.anchors
    dim = anchors.dim
    ids = checked.ids(request.candidate_ids, "candidate_ids")
    vectors = unit_rows(request.candidate_vectors, "candidate_vectors", dim, allow_empty=True)
    checked.same_count(ids, vectors)
    candidate_count = len(ids)
    artist_codes = checked.artist_codes(request.candidate_artists, len(ids))
    candidate_tags = checked.per_item(request.candidate_tags, len(ids), "candidate_tags", {})
    anchor_titles = checked.per_item(request.anchor_titles, len(anchors), "anchor_titles", "")
    anchor_tags = checked.per_item(request.anchor_tags, len(anchors), "anchor_tags", {})
    breadth = unit_interval(request.breadth, "breadth")
    explore = unit_interval(request.explore, "explore")
    near_duplicate_cosine = unit_interval(request.near_duplicate_cosine, "near_duplicate_cosine")
    page_size = checked.whole_number(request.page_size, "page_size", minimum=1)
    cap = None
    if request.max_per_artist is not None:
        cap = checked.whole_number(request.max_per_artist, "max_per_artist", minimum=1)
    temperature = checked.positive(request.temperature, "temperature")
    disliked = checked.optional_rows(request.disliked_vectors, "disliked_vectors", dim)
    shown = checked.optional_rows(request.shown_vectors, "shown_vectors", dim)
    if request.corpus_sample is None:
        corpus = corpus_norms = None
    else:
        corpus, corpus_norms = rows_and_norms(request.corpus_sample, "corpus_sample", dim)
    if request.throughline is not None:
        throughline = unit_vector(request.throughline, "throughline", dim)
    else:
        is_seed = np.array([kind == "seed" for kind in anchors.kinds])
        throughline = throughline_vector(anchors.vectors[is_seed] if is_seed.any() else anchors.vectors)
    focus = focus_vector(anchors, throughline) if request.focus is None else request.focus
    weights = pocket_weights(anchors, focus, breadth)
    excluded_ids = np.concatenate(
        [
            checked.ids(request.seed_ids, "seed_ids"),
            checked.ids(request.thumbed_ids, "thumbed_ids"),
            anchors.track_ids,
        ]
    )

    anchor_cosines = vectors @ anchors.vectors.T
    disliked_cosines = vectors @ disliked.T
    kept = _worth_ranking(ids, excluded_ids, np.hstack([anchor_cosines, disliked_cosines]), near_duplicate_cosine)
    if not len(kept):
        return []
    ids, vectors, artist_codes = ids[kept], vectors[kept], artist_codes[kept]
    anchor_cosines, disliked_cosines = anchor_cosines[kept], disliked_cosines[kept]

    relevance = soft_top_k(anchor_cosines, weights, temperature)
    penalty = _penalty_from_similarities(disliked_cosines, DISLIKE_STRENGTH, DISLIKE_WIDTH)
    novelty_scores = _novelty_from_similarities(np.hstack([anchor_cosines, disliked_cosines, vectors @ shown.T]))
    scores = blend_scores(relevance, novelty_scores, penalty, explore) + listening_shift(vectors, request.listening)
    slider_shifts, slider_labels = _slider_shifts(request.sliders, kept, candidate_count)
    if slider_shifts is not None:
        scores = scores + slider_shifts.sum(axis=0)
    picks = _greedy_mmr(vectors, scores, page_size, mmr_lambda(explore), artist_codes, cap, near_duplicate_cosine)

    relevance_rank, score_rank = _ranks(relevance), _ranks(scores)
    for_novelty = (explore > 0) & (relevance_rank >= page_size) & (score_rank < relevance_rank)
    anchor_indices = why_anchor(anchor_cosines[picks], weights, temperature)
    explained_cosines = anchor_cosines[picks, anchor_indices]
    percentiles = None
    if corpus is not None:
        # A few anchors explain most of a page, and the sample is the largest matrix here: compare each once.
        explaining, which = np.unique(anchor_indices, return_inverse=True)
        percentiles = corpus_percentile_from_norms(
            explained_cosines, anchors.vectors[explaining], which, corpus, corpus_norms
        )
    similarities = vectors[picks] @ throughline

    nearest_dislike = disliked_cosines.max(axis=1) if disliked_cosines.shape[1] else np.full(len(ids), -1.0)

    results = []
    quoted: Counter[str] = Counter()  # how many lines above quote each tag, in page order
    for position, (index, anchor_index) in enumerate(zip(picks, anchor_indices.tolist())):
        percentile = None if percentiles is None else float(percentiles[position])
        tags = shared_tags(candidate_tags[kept[index]], anchor_tags[anchor_index], request.tag_means, quoted=quoted)
        quoted.update(tags)
        cosine = float(explained_cosines[position])
        near_dislike = bool(penalty[index] >= DISLIKE_NOTE_MIN_PENALTY)
        caveat = mentions_dislike(
            position, float(penalty[index]), float(nearest_dislike[index]), cosine, DISLIKE_NOTE_MIN_PENALTY
        )
        novel = bool(for_novelty[index])
        note = slider_note_for(slider_shifts, slider_labels, index)
        parts = why_parts(
            anchor_titles[anchor_index], anchors.kinds[anchor_index], percentile, tags,
            for_novelty=novel, slider_note=note, dislike_caveat=caveat,
        )
        results.append(
            RankedTrack(
                track_id=int(ids[index]),
                score=float(scores[index]),
                similarity=float(similarities[position]),
                why=WHY_SEPARATOR.join(parts),
                why_anchor_id=int(anchors.track_ids[anchor_index]),
                why_anchor_cosine=cosine,
                corpus_percentile=percentile,
                shared_tags=tags,
                near_dislike=near_dislike,
                for_novelty=novel,
                slider_note=note,
                why_parts=parts,
            )
        )
    return results


def _slider_shifts(sliders: Sequence[SliderSteer], kept: np.ndarray, count_before_filters: int):
    """(s, n_kept) score shifts, one row per slider knob, and the knobs' labels; (None, []) without knobs."""
    rows, labels = [], []
    for steer in sliders:
        weight = float(steer.weight)
        if not np.isfinite(weight) or not -1.0 <= weight <= 1.0:
            raise ValueError(f"The weight of slider “{steer.label}” must be between -1 and 1.")
        values = np.asarray(steer.standardised_predictions, dtype=np.float64)
        if values.shape != (count_before_filters,) or not np.all(np.isfinite(values)):
            raise ValueError(f"Slider “{steer.label}” needs one finite prediction per candidate.")
        if weight != 0.0:
            rows.append(SLIDER_STEER_SCALE * weight * values[kept])
            labels.append(("more " if weight > 0 else "less ") + steer.label)
    return (np.vstack(rows), labels) if rows else (None, [])


def _penalty_from_similarities(similarities: np.ndarray, strength: float, width: float) -> np.ndarray:
    if similarities.shape[1] == 0:
        return np.zeros(similarities.shape[0])
    return strength * np.exp((similarities.max(axis=1) - 1.0) / width)


def _novelty_from_similarities(similarities: np.ndarray) -> np.ndarray:
    if similarities.shape[1] == 0:
        return np.ones(similarities.shape[0])
    return 1.0 - similarities.max(axis=1)


def _ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[order] = np.arange(len(values))
    return ranks


