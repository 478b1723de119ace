"""What the map and path pages read: the payload, one point's details, search-to-locate, a station's overlay,
and stations made from the map. Never imports the projection (umap, numba): that is the worker's."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import numpy as np
from django.db import connection
from django.urls import reverse
from django_q.tasks import async_task

from discovery.atlas.models import MapLayout
from discovery.atlas.payload import NO_ALBUM, NO_TAG, bounds_of, encode_points
from discovery.engine.spread import farthest_point_order
from discovery.lib.forms import ListenerError
from embedding.models import EmbeddingModel, TrackEmbedding
from taste.sliders.services import LinearHead, SliderDark, steering_sliders
from taste.stations.forms import MAX_SEEDS
from taste.stations.models import Station, Thumb
from taste.stations.recommendations import upcoming
from taste.stations.services import create_station, seedable_tracks
from tracks.models import Track

TOP_TAGS_SHOWN = 3
LOCATE_LIMIT = 20
CONSTELLATION_LINKS = 10


RECOMMENDER_TASK = "discovery.atlas.tasks.train_recommender"


def queue_recommender_training(model_name: str) -> None:
    """Hand the two-tower's training (and its judging against the centroid) to the worker: stations start or
    stop using it by the verdict it writes."""
    async_task(RECOMMENDER_TASK, model_name, group="recommender", task_name=f"two-tower for {model_name}")


def current_layout(model_name: str = "") -> MapLayout | None:
    model = EmbeddingModel.objects.filter(name=model_name).first() if model_name else EmbeddingModel.default()
    if model is None:
        return None
    return MapLayout.objects.filter(model=model).select_related("model").first()


@dataclass(frozen=True)
class Payload:
    data: bytes
    meta: dict


_POINTS_SQL = """
SELECT p.track_id, p.x, p.y, t.album, t.audio_path,
       (SELECT k FROM jsonb_each_text(e.tags) AS j(k, v) ORDER BY v::float8 DESC, k LIMIT 1) AS top_tag
FROM atlas_mappoint p
JOIN tracks_track t ON t.id = p.track_id
LEFT JOIN embedding_trackembedding e ON e.track_id = p.track_id AND e.model_id = %s
WHERE p.layout_id = %s AND NOT t.hidden AND t.duplicate_of_id IS NULL
ORDER BY p.track_id
"""

# One payload per layout and version, per process: at 100k tracks it takes a second to assemble and is read
# by every visit to the map until the map changes.
_cache: dict[int, tuple[tuple, Payload]] = {}
_cache_lock = threading.Lock()


def _version(layout: MapLayout) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), max(t.updated) FROM atlas_mappoint p JOIN tracks_track t ON t.id = p.track_id "
            "WHERE p.layout_id = %s",
            [layout.pk],
        )
        count, changed = cursor.fetchone()
    return (layout.built, count, changed)


def album_label(album: str, audio_path: str) -> str:
    """An album is its name within its folder; a track without an album tag is coloured by its folder."""
    folder = os.path.basename(os.path.dirname(audio_path or ""))
    if album:
        return f"{album} ({folder})" if folder else album
    return f"{folder}/" if folder else ""


def map_payload(layout: MapLayout) -> Payload:
    version = _version(layout)
    with _cache_lock:
        cached = _cache.get(layout.pk)
    if cached and cached[0] == version:
        return cached[1]
    with connection.cursor() as cursor:
        cursor.execute(_POINTS_SQL, [layout.model_id, layout.pk])
        rows = cursor.fetchall()
    ids = np.array([row[0] for row in rows], dtype=np.int64)
    xy = np.array([(row[1], row[2]) for row in rows], dtype=np.float64).reshape(-1, 2)
    albums: dict[str, int] = {}
    tags: dict[str, int] = {}
    album_index = np.full(len(rows), NO_ALBUM, dtype=np.int64)
    tag_index = np.full(len(rows), NO_TAG, dtype=np.int64)
    for i, (_, _, _, album, path, top_tag) in enumerate(rows):
        label = album_label(album, path)
        if label:
            album_index[i] = albums.setdefault(label, len(albums))
        if top_tag:
            tag_index[i] = tags.setdefault(top_tag, len(tags))
    bounds = bounds_of(xy)
    data = encode_points(ids, xy, album_index, tag_index, bounds)
    meta = {
        "model": layout.model.name,
        "method": layout.method,
        "points": len(rows),
        "built": layout.built.isoformat(),
        "bounds": list(bounds),
        "albums": list(albums)[:NO_ALBUM],
        "tags": list(tags)[:NO_TAG],
    }
    payload = Payload(data, meta)
    with _cache_lock:
        _cache[layout.pk] = (version, payload)
    return payload


def lit_sliders(user, layout: MapLayout | None):
    """The sliders that can colour this listener's map: lit, theirs or public, learnt on the map's model."""
    if layout is None:
        return []
    return list(steering_sliders(user).filter(embedding_model=layout.model).order_by("name"))


def map_summary(layout: MapLayout | None) -> dict:
    if layout is None:
        model = EmbeddingModel.default()
        return {"model": model.name if model else None, "points": 0, "built": None}
    points = layout.points.filter(track__in=Track.objects.canonical()).count()
    return {"model": layout.model.name, "points": points, "built": layout.built.isoformat()}


def track_card(track: Track, model: EmbeddingModel | None) -> dict:
    """What a hover shows and what a play button needs, for one track."""
    tags = {}
    if model is not None:
        embedding = TrackEmbedding.objects.filter(track=track, model=model).only("tags").first()
        tags = embedding.tags if embedding else {}
    top = sorted(tags.items(), key=lambda item: item[1], reverse=True)[:TOP_TAGS_SHOWN]
    return {
        "id": track.pk,
        "title": track.title,
        "artist": track.artist,
        "album": track.album,
        "tags": [name for name, _ in top],
        "src": reverse("track_audio", args=[track.pk]),
        "art": reverse("track_artwork", args=[track.pk]) + "?size=large",
        "url": reverse("track_detail", args=[track.pk]),
    }


def locate(layout: MapLayout, query: str) -> list[dict]:
    """Tracks on the map matching `query` (title, artist or album words as prefixes), best first."""
    on_map = layout.points.values("track_id")
    matches = Track.objects.canonical().matching(query).filter(pk__in=on_map)[:LOCATE_LIMIT]
    return [{"id": t.pk, "title": t.title, "artist": t.artist} for t in matches]


def station_overlay(station: Station) -> dict:
    """The station drawn over the map: its seeds, likes, dislikes, the radio's next tracks and the links from
    each of the first few to its anchor."""
    thumbs = list(station.thumbs.values_list("track_id", "value"))
    queue = upcoming(station)
    return {
        "station": station.pk,
        "name": station.name,
        "seeds": list(station.seed_links.order_by("position").values_list("track_id", flat=True)),
        "likes": [track_id for track_id, value in thumbs if value == Thumb.UP],
        "dislikes": [track_id for track_id, value in thumbs if value == Thumb.DOWN],
        "queue": [rec.track.pk for rec in queue],
        # The constellation: each of the next tracks linked to the anchor it is most like (its why line's).
        "links": [[rec.ranked.why_anchor_id, rec.track.pk] for rec in queue[:CONSTELLATION_LINKS]],
    }


def station_from_selection(owner, track_ids: list[int]) -> Station:
    """A station seeded by up to MAX_SEEDS of the selected tracks, chosen to span them (farthest-point sampling
    over their vectors), the most typical first."""
    model = EmbeddingModel.default()
    rows = list(
        TrackEmbedding.objects.filter(model=model, track__in=seedable_tracks(model).filter(pk__any=track_ids))
        .order_by("track_id")
        .values_list("track_id", "vector")
    )
    if not rows:
        raise ListenerError("None of the selected tracks can start a station: draw the lasso around some points.")
    ids = [track_id for track_id, _ in rows]
    seeds = [ids[i] for i in farthest_point_order([vector for _, vector in rows], MAX_SEEDS)]
    return create_station(owner, seeds, f"From the map: {len(rows)} tracks")


_SLIDER_SQL = """
SELECT p.track_id, -(e.vector <#> %s::vector)
FROM atlas_mappoint p
JOIN tracks_track t ON t.id = p.track_id
LEFT JOIN embedding_trackembedding e ON e.track_id = p.track_id AND e.model_id = %s
WHERE p.layout_id = %s AND NOT t.hidden AND t.duplicate_of_id IS NULL
ORDER BY p.track_id
"""


def slider_values(layout: MapLayout, slider) -> bytes:
    """A lit slider's prediction for every point, in the payload's order, as one byte each: 0 for the least of
    its word on the map, 255 for the most (its predictions standardised, ±2.5 standard deviations)."""
    if slider.embedding_model_id != layout.model_id:
        raise ListenerError(f"“{slider.name}” learnt on another model's vectors than this map's.")
    try:
        head = LinearHead.of(slider)
    except SliderDark as dark:
        raise ListenerError(f"“{slider.name}” is still dark: {dark}") from dark
    coef = "[" + ",".join(f"{float(c):.7g}" for c in head.coef) + "]"
    with connection.cursor() as cursor:
        cursor.execute(_SLIDER_SQL, [coef, layout.model_id, layout.pk])
        dots = np.array([row[1] if row[1] is not None else np.nan for row in cursor.fetchall()], dtype=np.float64)
    z = (head.intercept + dots - head.prediction_mean) / max(head.prediction_std, 1e-9)
    scaled = np.nan_to_num((np.clip(z, -2.5, 2.5) + 2.5) / 5.0 * 255.0, nan=127.0)
    return np.rint(scaled).astype(np.uint8).tobytes()
