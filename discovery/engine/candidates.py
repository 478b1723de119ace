"""Which tracks a station's ranking looks at: nearest neighbours of its throughline and of each anchor.

Candidates come from SQL (the model's HNSW index); only canonical tracks (Track.objects.canonical()) that have a
vector from the model survive. The exact scoring of the few hundred that remain is NumPy, in ranking.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedding.models import EmbeddingModel
from embedding.vector_index import cached_nearest_neighbours_many, track_vectors
from tracks.models import Track

THROUGHLINE_CANDIDATES = 200
ANCHOR_CANDIDATES = 40
# One query per page, so it can afford a wide search: on a million musicnn-like vectors ef_search 600 gives
# recall@20 0.95 at 14 ms p95, where the default 100 gives 0.82 (docs/benchmarks.md). Anchor queries keep the
# default: there are thirty of them, and each only adds candidates around a liked track.
THROUGHLINE_EF_SEARCH = 600
# The radio leaves out what it played lately (RADIO_NO_REPEAT_PLAYS, 100 by default) and what it has queued, and
# those are the throughline's nearest tracks, since it played the best first: the throughline query asks for one
# more track per excluded one, so the page keeps its depth instead of running dry after a few hours. Capped, so
# a long history cannot turn one page into a scan of the catalogue.
MAX_THROUGHLINE_CANDIDATES = 1000


@dataclass(frozen=True)
class Candidates:
    """Tracks worth ranking, one row each: ids (n,), vectors (n, d) unit rows, artists (casefolded) and tags."""

    ids: list[int]
    vectors: np.ndarray
    artists: list[str]
    tags: list[dict]

    def __len__(self) -> int:
        return len(self.ids)


def canonical_artists(track_ids: list[int]) -> dict[int, str]:
    """{track id: artist} of the canonical tracks among `track_ids`, in one query with one array parameter."""
    return dict(Track.objects.canonical().filter(pk__any=track_ids).values_list("pk", "artist"))


def station_candidates(
    model: EmbeddingModel, throughline: np.ndarray, anchor_vectors: np.ndarray, exclude_ids=()
) -> Candidates:
    """Canonical, embedded tracks around the throughline (d,) and around each anchor (m, d), nearest first,
    without `exclude_ids`.

    Most of the page comes from around the throughline; each anchor adds its own neighbourhood, so that a
    pocket of likes far from the seeds can still be reached when breadth is high.
    """
    excluded = {int(pk) for pk in exclude_ids}
    limit = min(THROUGHLINE_CANDIDATES + len(excluded), MAX_THROUGHLINE_CANDIDATES)
    neighbour_lists = cached_nearest_neighbours_many(
        model, throughline, limit=limit, ef_search=max(THROUGHLINE_EF_SEARCH, limit)
    )
    neighbour_lists += cached_nearest_neighbours_many(model, anchor_vectors, limit=ANCHOR_CANDIDATES)
    ids = [pk for pk in dict.fromkeys(pk for found in neighbour_lists for pk in found) if pk not in excluded]
    artists = canonical_artists(ids)
    embedded = track_vectors(model, [pk for pk in ids if pk in artists])
    ids = [pk for pk in ids if pk in embedded]
    vectors = np.stack([embedded[pk][0] for pk in ids]) if ids else np.zeros((0, model.dim))
    return Candidates(
        ids=ids,
        vectors=vectors,
        artists=[artists[pk].casefold() for pk in ids],
        tags=[embedded[pk][1] for pk in ids],
    )
