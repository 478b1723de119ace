"""Sonic paths for the site: the tracks along the route between two tracks (discovery/engine/path.py)."""

from __future__ import annotations

from discovery.engine.path import choose_path, waypoints
from discovery.lib.forms import ListenerError
from embedding.models import EmbeddingModel
from embedding.vector_index import nearest_neighbours_many, track_vectors
from taste.stations.services import seedable_tracks
from tracks.models import Track

# Nearest tracks fetched per waypoint: enough that used, avoided and capped ones still leave a choice.
CANDIDATES_PER_STEP = 40


def sonic_path(
    from_id: int, to_id: int, steps: int = 10, per_artist: int = 2, avoid: list[int] | None = None
) -> list[Track]:
    """The tracks from `from_id` to `to_id` (both included), at most `steps` of them, in order."""
    model = EmbeddingModel.default()
    ends = seedable_tracks(model).in_bulk([from_id, to_id]) if model else {}
    missing = [str(pk) for pk in (from_id, to_id) if pk not in ends]
    if missing:
        raise ListenerError(
            f"Track {', '.join(missing)} cannot be on a path: it does not exist, is hidden, is a re-release of "
            "another track, or is not embedded yet."
        )
    ends_vectors = track_vectors(model, [from_id, to_id])
    try:
        points = waypoints(ends_vectors[from_id][0], ends_vectors[to_id][0], steps)
    except ValueError as error:
        raise ListenerError(str(error)) from error
    candidates = nearest_neighbours_many(model, points, limit=CANDIDATES_PER_STEP, ef_search=2 * CANDIDATES_PER_STEP)
    offered = {i for ids in candidates for i in ids}
    allowed = set(seedable_tracks(model).filter(pk__any=list(offered)).values_list("pk", flat=True))
    candidates = [[i for i in ids if i in allowed] for ids in candidates]
    vectors = {pk: vector for pk, (vector, _) in track_vectors(model, allowed | {from_id, to_id}).items()}
    tracks = Track.objects.in_bulk(allowed | {from_id, to_id})
    artists = {pk: track.artist.casefold() for pk, track in tracks.items()}
    ids = choose_path(
        from_id, to_id, points, candidates, vectors, artists, max_per_artist=per_artist, avoid=set(avoid or [])
    )
    return [tracks[pk] for pk in ids]
