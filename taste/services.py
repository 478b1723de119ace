"""Stations, seeds, thumbs and knobs: every change a listener makes to a station goes through here."""

from __future__ import annotations

import math

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from embedding.models import EmbeddingModel, TrackEmbedding
from taste.models import Station, StationSeed, Thumb
from tracks.models import Track

MAX_SEEDS = 10
THUMB_VALUES = {"up": Thumb.UP, "down": Thumb.DOWN}


class StationError(ValueError):
    """A request a listener can correct; the message says how (shown with a 400)."""


def seedable_tracks(model: EmbeddingModel | None = None):
    """Tracks that can seed a station: visible and embedded by the site's default model."""
    model = model or EmbeddingModel.default()
    if model is None:
        return Track.objects.none()
    embedded = TrackEmbedding.objects.filter(model=model).values("track_id")
    return Track.objects.filter(hidden=False, pk__in=embedded)


def seedable_ids(track_ids=None) -> set[int]:
    """Which of `track_ids` (or of all tracks) can seed a station right now."""
    tracks = seedable_tracks()
    if track_ids is not None:
        tracks = tracks.filter(pk__in=list(track_ids))
    return set(tracks.values_list("pk", flat=True))


def parse_track_ids(values: list[str], *, field: str = "seed") -> list[int]:
    ids = []
    for value in values:
        try:
            track_id = int(value)
        except (TypeError, ValueError):
            raise StationError(f"“{value}” is not a track id.") from None
        if track_id <= 0:
            raise StationError(f"“{value}” is not a track id.")
        if track_id not in ids:
            ids.append(track_id)
    return ids


def parse_one_track_id(values: list[str]) -> int:
    ids = parse_track_ids(values, field="track")
    if len(ids) != 1:
        raise StationError("Say which one track this is about.")
    return ids[0]


def _checked_seeds(seed_ids: list[int]) -> list[Track]:
    if not seed_ids:
        raise StationError("Pick at least one song to start a station.")
    if len(seed_ids) > MAX_SEEDS:
        raise StationError(f"A station starts from at most {MAX_SEEDS} songs; you picked {len(seed_ids)}.")
    found = seedable_tracks().in_bulk(seed_ids)
    missing = [str(pk) for pk in seed_ids if pk not in found]
    if missing:
        raise StationError(
            f"Track {', '.join(missing)} cannot be a seed: it does not exist, is hidden, or is not embedded yet."
        )
    return [found[pk] for pk in seed_ids]


def default_station_name(seeds: list[Track]) -> str:
    if len(seeds) == 1:
        return f"More like {seeds[0].title}"[:200]
    return f"{seeds[0].title} + {len(seeds) - 1} more"[:200]


@transaction.atomic
def create_station(owner, seed_ids: list[int], name: str = "") -> Station:
    seeds = _checked_seeds(seed_ids)
    station = Station.objects.create(owner=owner, name=name.strip()[:200] or default_station_name(seeds))
    StationSeed.objects.bulk_create(
        StationSeed(station=station, track=track, position=position) for position, track in enumerate(seeds)
    )
    return station


@transaction.atomic
def add_seed(station: Station, track_id: int) -> None:
    Station.objects.select_for_update().get(pk=station.pk)  # one seed change per station at a time
    if station.seed_links.filter(track_id=track_id).exists():
        return
    if station.seed_links.count() >= MAX_SEEDS:
        raise StationError(f"A station has at most {MAX_SEEDS} seeds; remove one first.")
    (track,) = _checked_seeds([track_id])
    position = (station.seed_links.aggregate(last=Max("position"))["last"] or 0) + 1
    StationSeed.objects.create(station=station, track=track, position=position)
    Thumb.objects.filter(station=station, track=track).delete()
    station.save(update_fields=["updated"])


@transaction.atomic
def remove_seed(station: Station, track_id: int) -> None:
    Station.objects.select_for_update().get(pk=station.pk)
    links = station.seed_links
    if not links.filter(track_id=track_id).exists():
        raise StationError(f"Track {track_id} is not a seed of this station.")
    if links.count() == 1:
        raise StationError("A station needs at least one seed; add another before removing this one.")
    links.filter(track_id=track_id).delete()
    station.save(update_fields=["updated"])


def set_thumb(station: Station, track_id: int, value: str) -> None:
    """Thumb a track up or down, or clear the thumb. Safe when two tabs thumb the same station at once."""
    if value not in {"up", "down", "clear"}:
        raise StationError("A thumb is “up”, “down” or “clear”.")
    if not Track.objects.filter(pk=track_id, hidden=False).exists():
        raise StationError(f"There is no track {track_id}.")
    if value == "clear":
        Thumb.objects.filter(user=station.owner, station=station, track_id=track_id).delete()
    else:
        # One statement, so concurrent thumbs cannot both insert (the unique constraint decides) or lose an
        # update: the last write for a track wins, thumbs on other tracks are untouched.
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO taste_thumb (user_id, station_id, track_id, value, created, updated) "
                "VALUES (%s, %s, %s, %s, now(), now()) "
                "ON CONFLICT (user_id, station_id, track_id) "
                "DO UPDATE SET value = EXCLUDED.value, updated = EXCLUDED.updated",
                [station.owner_id, station.pk, track_id, THUMB_VALUES[value]],
            )
    Station.objects.filter(pk=station.pk).update(updated=timezone.now())


def parse_knob(value, name: str) -> float | None:
    """A knob value from a form: a number in [0, 1], or None when absent."""
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise StationError(f"{name} must be a number between 0 and 1.") from None
    if not math.isfinite(number) or not 0.0 <= number <= 1.0:
        raise StationError(f"{name} must be a number between 0 and 1.")
    return number


def parse_slider_knobs(params, usable_slider_ids: set[int]) -> dict[int, float]:
    """Slider knobs from a form: `slider-<id>` = a weight in [-1, 1], for lit sliders the listener may use."""
    knobs = {}
    for key, value in params.items():
        if not key.startswith("slider-"):
            continue
        try:
            slider_id = int(key.removeprefix("slider-"))
            weight = float(value)
        except ValueError:
            raise StationError("A slider knob is a number between -1 and 1.") from None
        if slider_id not in usable_slider_ids:
            raise StationError(f"Slider {slider_id} cannot steer this station: it is not yours, public, or lit.")
        if not math.isfinite(weight) or not -1.0 <= weight <= 1.0:
            raise StationError("A slider knob is a number between -1 and 1.")
        knobs[slider_id] = weight
    return knobs


def set_knobs(
    station: Station, breadth: float | None, explore: float | None, slider_knobs: dict[int, float] | None = None
) -> None:
    changes = {k: v for k, v in {"breadth": breadth, "explore": explore}.items() if v is not None}
    if slider_knobs:
        weights = {**station.slider_weights, **{str(pk): w for pk, w in slider_knobs.items()}}
        changes["slider_weights"] = {pk: w for pk, w in weights.items() if w != 0.0}
    if changes:
        for name, value in changes.items():
            setattr(station, name, value)
        station.save(update_fields=[*changes, "updated"])
