"""Stations, seeds, thumbs and knobs: every change a listener makes to a station goes through here.

Values arrive clean (taste/stations/forms.py); what only the database can tell (a track that is hidden or not
embedded, the last seed) is a ListenerError with a sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Max

from discovery.lib.forms import ListenerError
from embedding.models import EmbeddingModel, TrackEmbedding
from taste.stations.forms import MAX_SEEDS
from taste.stations.models import Station, StationSeed, Thumb
from tracks.models import Track

THUMB_VALUES = {"up": Thumb.UP, "down": Thumb.DOWN}


def seedable_tracks(model: EmbeddingModel | None = None):
    """Tracks that can seed a station: canonical and embedded by the site's default model."""
    model = model or EmbeddingModel.default()
    if model is None:
        return Track.objects.none()
    embedded = TrackEmbedding.objects.filter(model=model).values("track_id")
    return Track.objects.canonical().filter(pk__in=embedded)


def seedable_ids(track_ids=None) -> set[int]:
    """Which of `track_ids` (or of all tracks) can seed a station right now."""
    tracks = seedable_tracks()
    if track_ids is not None:
        tracks = tracks.filter(pk__any=list(track_ids))
    return set(tracks.values_list("pk", flat=True))


def _checked_seeds(seed_ids: list[int]) -> list[Track]:
    if not seed_ids:
        raise ListenerError("Pick at least one song to start a station.")
    if len(seed_ids) > MAX_SEEDS:
        raise ListenerError(f"A station starts from at most {MAX_SEEDS} songs; you picked {len(seed_ids)}.")
    found = seedable_tracks().in_bulk(seed_ids)
    missing = [str(pk) for pk in seed_ids if pk not in found]
    if missing:
        raise ListenerError(
            f"Track {', '.join(missing)} cannot be a seed: it does not exist, is hidden, is a re-release of "
            "another track, or is not embedded yet."
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
        raise ListenerError(f"A station has at most {MAX_SEEDS} seeds; remove one first.")
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
        raise ListenerError(f"Track {track_id} is not a seed of this station.")
    if links.count() == 1:
        raise ListenerError("A station needs at least one seed; add another before removing this one.")
    links.filter(track_id=track_id).delete()
    station.save(update_fields=["updated"])


def set_thumb(station: Station, track_id: int, value: str) -> str | None:
    """Thumb a track "up" or "down", or "clear" the thumb. Safe when two tabs thumb the same station at once.

    Returns the thumb it replaced ("up", "down" or None), so that the page redraws only the rails it changed.
    """
    # One statement (one round trip, one commit) checks the track, writes the thumb, touches the station and
    # reads what was there. Its parts share one snapshot: `previous` sees the row as it was before the write.
    # The write is one statement, so concurrent thumbs cannot both insert (the unique constraint decides) or
    # lose an update: the last write for a track wins, thumbs on other tracks are untouched. (When another tab
    # inserted the row a moment before, `previous` reads none, and the page redraws one rail too few until its
    # next answer.)
    visible_sql, visible_params = Track.objects.visible().filter(pk=track_id).values("pk").query.sql_with_params()
    table, key = Thumb._meta.db_table, [station.owner_id, station.pk, track_id]
    if value == "clear":
        write = f"DELETE FROM {table} WHERE user_id = %s AND station_id = %s AND track_id = %s "
        write += "AND EXISTS (SELECT 1 FROM visible) RETURNING 1"
        write_params = key
    else:
        write = (
            f"INSERT INTO {table} (user_id, station_id, track_id, value, created, updated) "
            "SELECT %s, %s, %s, %s, now(), now() FROM visible "
            "ON CONFLICT (user_id, station_id, track_id) "
            "DO UPDATE SET value = EXCLUDED.value, updated = EXCLUDED.updated RETURNING 1"
        )
        write_params = [*key, THUMB_VALUES[value]]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH visible AS ({visible_sql}), "
            f"previous AS (SELECT value FROM {table} WHERE user_id = %s AND station_id = %s AND track_id = %s), "
            f"written AS ({write}), "
            f"touched AS (UPDATE {Station._meta.db_table} SET updated = statement_timestamp() "
            "WHERE id = %s AND EXISTS (SELECT 1 FROM visible)) "
            "SELECT EXISTS (SELECT 1 FROM visible), (SELECT value FROM previous)",
            [*visible_params, *key, *write_params, station.pk],
        )
        found, previous = cursor.fetchone()
    if not found:
        raise ListenerError(f"There is no track {track_id}.")
    return next((name for name, stored in THUMB_VALUES.items() if stored == previous), None)


@dataclass(frozen=True)
class Knobs:
    """How a station is steered: pocket breadth and explore in [0, 1], and slider id → weight in [-1, 1]."""

    breadth: float
    explore: float
    slider_weights: dict[int, float] = field(default_factory=dict)

    @classmethod
    def of(cls, station: Station) -> Knobs:
        weights = {int(pk): float(w) for pk, w in (station.slider_weights or {}).items()}
        return cls(station.breadth, station.explore, {pk: w for pk, w in weights.items() if w != 0.0})

    def changed(self, breadth: float | None = None, explore: float | None = None, sliders=None) -> Knobs:
        """These knobs with the given ones turned; None (or a slider left out) keeps a knob as it is."""
        weights = {**self.slider_weights, **(sliders or {})}
        return Knobs(
            self.breadth if breadth is None else breadth,
            self.explore if explore is None else explore,
            {pk: w for pk, w in weights.items() if w != 0.0},
        )


def save_knobs(station: Station, knobs: Knobs) -> None:
    station.breadth, station.explore = knobs.breadth, knobs.explore
    station.slider_weights = {str(pk): w for pk, w in sorted(knobs.slider_weights.items())}
    station.save(update_fields=["breadth", "explore", "slider_weights", "updated"])
