"""Search: finding tracks by name, and a station's recommendations.

Candidates come from SQL (each model's HNSW index, around the throughline and around every anchor); their
exact scoring is NumPy in discovery/ranking.py and taste/profile.py. This module is the glue: it reads what a
station knows from the database and turns it into arrays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F
from django.utils import timezone

from discovery.ranking import RankedTrack, RankingInput, SliderSteer, rank_candidates, throughline_vector
from embedding.models import EmbeddingModel
from embedding.samples import corpus_sample
from embedding.vector_index import cached_nearest_neighbours_many, track_vectors
from taste.models import Station, Thumb
from taste.profile import build_anchors
from tracks.models import Track

SEARCH_LIMIT = 20
THROUGHLINE_CANDIDATES = 200
ANCHOR_CANDIDATES = 40
# One query per page, so it can afford a wide search: on a million musicnn-like vectors ef_search 600 gives
# recall@20 0.95 at 14 ms p95, where the default 100 gives 0.82 (docs/benchmarks.md). Anchor queries keep the
# default: there are thirty of them, and each only adds candidates around a liked track.
THROUGHLINE_EF_SEARCH = 600

_WORD = re.compile(r"\w+", re.UNICODE)


def search_tracks(query: str, limit: int = SEARCH_LIMIT) -> list[Track]:
    """Visible, canonical tracks whose title, artist or album match every word of `query` as a prefix."""
    words = _WORD.findall(query.casefold())[:8]
    if not words:
        return []
    # Prefix matching on each word ("beat" finds "Beatles"); the words are \\w+ only, so nothing the user
    # typed can change the tsquery's syntax.
    tsquery = SearchQuery(" & ".join(f"{word}:*" for word in words), search_type="raw", config="simple")
    return list(
        Track.objects.filter(hidden=False, duplicate_of__isnull=True, search_document=tsquery)
        .annotate(rank=SearchRank(F("search_document"), tsquery))
        .order_by("-rank", "artist", "title", "pk")[:limit]
    )


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


def station_state(station: Station, model: EmbeddingModel) -> StationState:
    seed_links = list(station.seed_links.select_related("track"))
    thumbs = list(station.thumbs.select_related("track"))
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


def visible_artists(track_ids: list[int]) -> dict[int, str]:
    """{track id: artist} of the visible, canonical tracks among `track_ids`.

    One array parameter: `pk__in` binds a thousand ids one by one, which alone took 4 ms per page.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, artist FROM tracks_track WHERE id = ANY(%s) AND NOT hidden AND duplicate_of_id IS NULL",
            [list(track_ids)],
        )
        return dict(cursor.fetchall())


def slider_steers(station: Station, model: EmbeddingModel, candidate_vectors: np.ndarray) -> list[SliderSteer]:
    """The station's slider knobs that can steer now: lit, visible to the owner, learnt on this model."""
    from taste.slider_services import LinearHead, visible_sliders

    weights = {int(pk): float(w) for pk, w in (station.slider_weights or {}).items() if float(w) != 0.0}
    if not weights:
        return []
    sliders = visible_sliders(station.owner).filter(pk__in=weights, lit=True, embedding_model=model)
    return [
        SliderSteer(slider.name, weights[slider.pk], LinearHead.of(slider).standardised(candidate_vectors))
        for slider in sliders.order_by("pk")
    ]


def recommendations(station: Station, page_size: int = 20) -> list[Recommendation]:
    """The station's current page, best first, each with why it is there."""
    model = EmbeddingModel.default()
    if model is None:
        return []
    state = station_state(station, model)
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

    # Most of the page comes from around the throughline; each anchor adds its own neighbourhood, so that a
    # pocket of likes far from the seeds can still be reached when breadth is high.
    neighbour_lists = cached_nearest_neighbours_many(
        model, throughline, limit=THROUGHLINE_CANDIDATES, ef_search=THROUGHLINE_EF_SEARCH
    )
    neighbour_lists += cached_nearest_neighbours_many(model, anchors.vectors, limit=ANCHOR_CANDIDATES)
    candidate_ids = list(dict.fromkeys(pk for ids in neighbour_lists for pk in ids))

    visible = visible_artists(candidate_ids)
    candidate_ids = [pk for pk in candidate_ids if pk in visible]
    embedded = track_vectors(model, candidate_ids)
    candidate_ids = [pk for pk in candidate_ids if pk in embedded]
    if not candidate_ids:
        return []

    candidate_vectors = np.stack([embedded[pk][0] for pk in candidate_ids])
    anchor_titles = {t.pk: t.title for t in [*seeds, *likes]}
    judged = [t.pk for t in state.disliked if t.pk in state.vectors]
    ranked = rank_candidates(
        RankingInput(
            candidate_ids=candidate_ids,
            candidate_vectors=candidate_vectors,
            candidate_artists=[visible[pk].casefold() for pk in candidate_ids],
            candidate_tags=[embedded[pk][1] for pk in candidate_ids],
            anchors=anchors,
            anchor_titles=[anchor_titles[int(pk)] for pk in anchors.track_ids],
            anchor_tags=[state.tags.get(int(pk), {}) for pk in anchors.track_ids],
            throughline=throughline,
            disliked_vectors=np.stack([state.vectors[pk] for pk in judged]) if judged else None,
            seed_ids=[t.pk for t in state.seeds],
            thumbed_ids=[t.pk for t in [*state.liked, *state.disliked]],
            breadth=station.breadth,
            explore=station.explore,
            page_size=page_size,
            max_per_artist=settings.MAX_TRACKS_PER_ARTIST,
            near_duplicate_cosine=settings.DEDUP_MIN_COSINE.get(model.name, 0.99),
            corpus_sample=corpus_sample(model),
            sliders=slider_steers(station, model, candidate_vectors),
        )
    )
    tracks = Track.objects.in_bulk([r.track_id for r in ranked])
    return [Recommendation(track=tracks[r.track_id], ranked=r) for r in ranked]
