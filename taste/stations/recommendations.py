"""A station's recommendations: what the station knows, read from the database and handed to the engine.

The engine (discovery.engine) picks candidates and ranks them as pure functions over arrays; this module is
the glue that reads seeds, thumbs and slider knobs and turns them into those arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from django.conf import settings
from django.utils import timezone

from discovery.engine.candidates import station_candidates
from discovery.engine.listening import ListeningSignals
from discovery.engine.profile import build_anchors
from discovery.engine.ranking import RankedTrack, RankingInput, SliderSteer, rank_candidates, throughline_vector
from embedding.models import EmbeddingModel
from embedding.samples import corpus_sample, corpus_tag_means
from embedding.vector_index import track_vectors
from taste.sliders.services import steering_heads
from taste.stations.constellations import TWO_TOWER, next_track_query
from taste.stations.listening import listening_signals, recently_played_ids
from taste.stations.models import Station, Thumb
from taste.stations.services import Knobs
from tracks.models import Track

PAGE_SIZE = 20


@dataclass
class StationState:
    """What one station knows, as arrays for the ranking and as tracks for the page."""

    model: EmbeddingModel
    seeds: list[Track]
    liked: list[Track]
    disliked: list[Track]
    vectors: dict[int, np.ndarray] = field(default_factory=dict)
    tags: dict[int, dict] = field(default_factory=dict)
    seed_ages: dict[int, float] = field(default_factory=dict)  # seconds since each seed was added
    like_ages: dict[int, float] = field(default_factory=dict)  # seconds since each thumb-up


@dataclass
class Recommendation:
    track: Track
    ranked: RankedTrack


def thumbs_of(station: Station) -> list[Thumb]:
    """The station's thumbs with their tracks, newest first."""
    return list(station.thumbs.select_related("track"))


def station_state(station: Station, model: EmbeddingModel, thumbs: list[Thumb] | None = None) -> StationState:
    """`thumbs`: thumbs_of(station) when the caller has read them already (a page shows them too)."""
    seed_links = list(station.seed_links.select_related("track"))
    thumbs = thumbs_of(station) if thumbs is None else thumbs
    liked = [t for t in thumbs if t.value == Thumb.UP]
    disliked = [t for t in thumbs if t.value == Thumb.DOWN]
    state = StationState(
        model=model,
        seeds=[link.track for link in seed_links],
        liked=[t.track for t in liked],
        disliked=[t.track for t in disliked],
    )
    known = {link.track_id for link in seed_links} | {t.track_id for t in thumbs}
    for track_id, (vector, tags) in track_vectors(model, known).items():
        state.vectors[track_id], state.tags[track_id] = vector, tags
    now = timezone.now()
    state.seed_ages.update({link.track_id: (now - link.added).total_seconds() for link in seed_links})
    state.like_ages.update({t.track_id: (now - t.updated).total_seconds() for t in liked})
    return state


def slider_steers(
    station: Station, weights: dict[int, float], model: EmbeddingModel, candidate_vectors: np.ndarray
) -> list[SliderSteer]:
    """The slider knobs that can steer the station now: lit, visible to its owner, learnt on this model."""
    if not weights:
        return []  # most stations: no need to read the owner and their sliders
    heads = steering_heads(station.owner, list(weights), model)
    return [SliderSteer(name, weights[pk], head.standardised(candidate_vectors)) for pk, name, head in heads]


def station_listening(station: Station, model: EmbeddingModel) -> ListeningSignals:
    """The station's early skips and finishes (taste/stations/listening.py) as arrays for the ranking."""
    signals = listening_signals(station)
    vectors = track_vectors(model, [pk for pk, _ in [*signals.early_skips, *signals.finishes]])

    def rows(plays):
        plays = [(pk, age) for pk, age in plays if pk in vectors]
        return (np.stack([vectors[pk][0] for pk, _ in plays]) if plays else None), [age for _, age in plays]

    skipped, skipped_ages = rows(signals.early_skips)
    finished, finished_ages = rows(signals.finishes)
    return ListeningSignals(skipped, skipped_ages, finished, finished_ages)


def recommendations(
    station: Station, knobs: Knobs | None = None, page_size: int = PAGE_SIZE, exclude_ids=(), thumbs=None
) -> list[Recommendation]:
    """The station's current page for `knobs` (by default its saved ones), best first, each with its why.

    `exclude_ids` are left out (the radio: what it played lately and what it has queued); the candidate pool
    widens by as many, so the page stays full. `thumbs`: as station_state takes them.
    """
    knobs = knobs or Knobs.of(station)
    model = EmbeddingModel.default()
    if model is None:
        return []
    state = station_state(station, model, thumbs)
    seeds = [t for t in state.seeds if t.pk in state.vectors]
    if not seeds:
        return []
    likes = [t for t in state.liked if t.pk in state.vectors]
    seed_vectors = np.stack([state.vectors[t.pk] for t in seeds])
    anchors = build_anchors(
        [t.pk for t in seeds],
        seed_vectors,
        [state.seed_ages[t.pk] for t in seeds],
        [t.pk for t in likes],
        np.stack([state.vectors[t.pk] for t in likes]) if likes else None,
        [state.like_ages[t.pk] for t in likes],
    )
    throughline = throughline_vector(seed_vectors)
    # What plays next is gathered around the two-tower's query where it beat the centroid (constellations.py).
    query, chooser = next_track_query(model.name, anchors.vectors, throughline)
    candidates = station_candidates(model, query, anchors.vectors, exclude_ids)
    if not len(candidates):
        return []

    anchor_titles = {t.pk: t.title for t in [*seeds, *likes]}
    judged = [t.pk for t in state.disliked if t.pk in state.vectors]
    ranked = rank_candidates(
        RankingInput(
            candidate_ids=candidates.ids,
            candidate_vectors=candidates.vectors,
            candidate_artists=candidates.artists,
            candidate_tags=candidates.tags,
            anchors=anchors,
            anchor_titles=[anchor_titles[int(pk)] for pk in anchors.track_ids],
            anchor_tags=[state.tags.get(int(pk), {}) for pk in anchors.track_ids],
            throughline=throughline,
            disliked_vectors=np.stack([state.vectors[pk] for pk in judged]) if judged else None,
            seed_ids=[t.pk for t in state.seeds],
            thumbed_ids=[t.pk for t in [*state.liked, *state.disliked]],
            breadth=knobs.breadth,
            explore=knobs.explore,
            page_size=page_size,
            max_per_artist=settings.MAX_TRACKS_PER_ARTIST,
            near_duplicate_cosine=settings.DEDUP_MIN_COSINE.get(model.name, 0.99),
            corpus_sample=corpus_sample(model),
            tag_means=corpus_tag_means(model),
            sliders=slider_steers(station, knobs.slider_weights, model, candidates.vectors),
            listening=station_listening(station, model),
        )
    )
    if chooser == TWO_TOWER:
        ranked = [replace(r, why=f"{r.why} · found by the two-tower recommender") for r in ranked]
    tracks = Track.objects.in_bulk([r.track_id for r in ranked])
    return [Recommendation(track=tracks[r.track_id], ranked=r) for r in ranked]


def upcoming(
    station: Station, knobs: Knobs | None = None, page_size: int = PAGE_SIZE, thumbs=None
) -> list[Recommendation]:
    """What the station's radio plays next: its recommendations without the track playing now and those it
    played lately (settings.RADIO_NO_REPEAT_PLAYS), so an endless listen does not come round again too soon."""
    return recommendations(station, knobs, page_size, exclude_ids=recently_played_ids(station), thumbs=thumbs)
