"""Artists and albums: what the catalogue's tags say, grouped into pages a listener can browse and play.

There are no artist or album rows; both are read from the tracks' tags, in SQL:

- An **artist** is one value of a track's artist tag: "Alpha; Beta" (multi-valued tags, tracks/audio_tags.py)
  credits the track to Alpha and to Beta. Values that differ only in letter case are one artist.
- An **album** is an album tag within a scope: the folder of the files for music read from a folder (so a
  compilation of many artists is one album, and two artists' "Greatest Hits" are two), the first artist for
  iTunes previews and uploads. Tracks without an album tag belong to no album (their artist's page lists them).

Each gets a key: the first 10 hex digits of the MD5 of its normalised name (and scope), computed by PostgreSQL
only, so that lists, pages and links always agree. It never shows a server path, and any name works in a URL
("AC/DC", "?", "..", "坂本龍一"): the URL is `<slug>-<key>`, the slug only for people to read.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.postgres.fields import ArrayField
from django.core.paginator import Paginator
from django.db import connection, models
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils.text import slugify

from discovery.engine.spread import farthest_point_order
from discovery.lib.forms import ListenerError
from embedding.models import EmbeddingModel, TrackEmbedding
from taste.stations.forms import MAX_SEEDS
from taste.stations.services import create_station, seedable_tracks
from tracks.models import MAX_SEARCH_WORDS, Track

KEY_LENGTH = 10
INDEX_PAGE_SIZE = 50
MAX_TRACKS_SHOWN = 500

_KEY = f"substr(md5({{}}), 1, {KEY_LENGTH})"
_ARTIST_KEY = _KEY.format("lower(btrim({part}))")
# The folder of a file (its path without the last component), or the first artist for sources without folders.
_ALBUM_SCOPE = (
    "CASE WHEN {t}.source = 'folder' THEN left({t}.source_key, greatest(length({t}.source_key) - "
    "strpos(reverse({t}.source_key), '/'), 0) * sign(strpos({t}.source_key, '/'))::int) "
    "ELSE lower(btrim(split_part({t}.artist, ';', 1))) END"
)
_ALBUM_KEY = _KEY.format("lower(btrim({t}.album)) || chr(31) || " + _ALBUM_SCOPE)
# Folder files in path order (names usually start with the track number); the rest by title.
_ALBUM_POSITION = "CASE WHEN {t}.source = 'folder' THEN {t}.source_key ELSE '' END"
_CREDITS = (
    "ARRAY(SELECT ARRAY[btrim(part), " + _ARTIST_KEY.format(part="part") + "] "
    "FROM regexp_split_to_table({t}.artist, ';') WITH ORDINALITY AS parts(part, n) "
    "WHERE btrim(part) <> '' ORDER BY n)"
)
_CREDITED_TO = (
    "EXISTS (SELECT FROM regexp_split_to_table({t}.artist, ';') AS part "
    "WHERE " + _ARTIST_KEY.format(part="part") + " = %s)"
)
_TABLE = Track._meta.db_table
_VISIBLE_CANONICAL = "NOT t.hidden AND t.duplicate_of_id IS NULL"


@dataclass(frozen=True)
class Credit:
    """An artist or an album as a link: its name as tagged, and its key."""

    kind: str  # "artist" or "album"
    name: str
    key: str

    @property
    def ref(self) -> str:
        """The URL's part naming it: a slug to read, then the key."""
        slug = slugify(self.name)[:60].strip("-") or self.kind
        return f"{slug}-{self.key}"

    @property
    def url(self) -> str:
        return reverse(f"{self.kind}_detail", args=[self.ref])


def key_of_ref(ref: str) -> str | None:
    """The key at the end of a URL's `<slug>-<key>` (or a bare key), or None for anything else."""
    key = ref[-KEY_LENGTH:]
    if len(ref) < KEY_LENGTH or (len(ref) > KEY_LENGTH and ref[-KEY_LENGTH - 1] != "-"):
        return None
    return key if all(c in "0123456789abcdef" for c in key) else None


def with_credits(tracks):
    """`tracks` with each track's artist values and album key, for `credit_tracks`."""
    t = connection.ops.quote_name(_TABLE)
    return tracks.annotate(
        artist_credit_pairs=RawSQL(_CREDITS.format(t=t), [], output_field=ArrayField(ArrayField(models.TextField()))),
        album_key=RawSQL(
            f"CASE WHEN btrim({t}.album) = '' THEN NULL ELSE {_ALBUM_KEY.format(t=t)} END", [],
            output_field=models.TextField(),
        ),
    )


def credit_tracks(tracks) -> list[Track]:
    """The tracks of a `with_credits` queryset, each with `artist_credits` (a list of Credit, possibly empty)
    and `album_credit` (a Credit or None)."""
    tracks = list(tracks)
    for track in tracks:
        track.artist_credits = [Credit("artist", name, key) for name, key in track.artist_credit_pairs or []]
        track.album_credit = Credit("album", track.album.strip(), track.album_key) if track.album_key else None
    return tracks


def credited(track: Track) -> Track:
    """One track with its credits (a track page), in one query."""
    return credit_tracks(with_credits(Track.objects.filter(pk=track.pk)))[0]


@dataclass(frozen=True)
class IndexEntry:
    credit: Credit
    tracks: int
    year: int | None = None
    artist: str = ""  # an album's one artist; empty for an album of several


class _IndexRows:
    """Rows of an index query for Django's Paginator. The page asked for and the total come from one query
    (a window count); only a page past the end costs a second one, to count."""

    def __init__(self, kind: str, grouped_sql: str, params: list, page: int):
        self.kind, self.sql, self.params = kind, grouped_sql, params
        self.offset = (page - 1) * INDEX_PAGE_SIZE
        self.fetched: tuple[int, list] | None = None  # (offset, rows) of the page read along with the count
        self.total: int | None = None

    def _rows(self, offset: int, limit: int) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT *, count(*) OVER () FROM ({self.sql}) AS grouped ORDER BY lower(name), key LIMIT %s OFFSET %s",
                [*self.params, limit, offset],
            )
            return cursor.fetchall()

    def count(self) -> int:
        if self.total is None:
            rows = self._rows(self.offset, INDEX_PAGE_SIZE)
            if rows:
                self.fetched, self.total = (self.offset, rows), rows[0][-1]
            else:
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT count(*) FROM ({self.sql}) AS grouped", self.params)
                    self.total = cursor.fetchone()[0]
        return self.total

    def __len__(self):
        return self.count()

    def __getitem__(self, window: slice) -> list[IndexEntry]:
        if self.fetched and self.fetched[0] == window.start:
            rows = self.fetched[1][: window.stop - window.start]
        else:
            rows = self._rows(window.start, window.stop - window.start)
        return [
            IndexEntry(Credit(self.kind, name, key), tracks, year, artist or "")
            for key, name, tracks, year, artist, _total in rows
        ]


_WORD = re.compile(r"\w+", re.UNICODE)  # as Track.objects.matching() reads a query


def _words_match(column: str, query: str) -> tuple[str, list[str]]:
    """SQL that is true when every word of `query` starts a word of `column` (as search reads words), and its
    parameters; ("", []) for a query without words.

    A regular expression rather than the tracks' text search: that one reads "AC/DC" as one token, a file path.
    The words are \\w+ only, so nothing typed is regular-expression syntax.
    """
    words = _WORD.findall(query.lower())[:MAX_SEARCH_WORDS]
    return " AND ".join(f"lower({column}) ~ ('\\m' || %s)" for _ in words), words


def _index_page(kind: str, sql: str, params: list, page: int):
    return Paginator(_IndexRows(kind, sql, params, page), INDEX_PAGE_SIZE).get_page(page)


def artist_index(query: str = "", page: int = 1):
    """A page of artists (name, track count), by name; with `query`, those whose name has a word starting with
    each of its words."""
    condition, params = _words_match("btrim(part)", query)
    if query and not params:
        return Paginator([], INDEX_PAGE_SIZE).get_page(1)
    sql = (
        "SELECT key, min(name) AS name, count(*) AS tracks, "
        "NULL::int AS year, NULL::text AS artist FROM ("
        f"  SELECT btrim(part) AS name, {_ARTIST_KEY.format(part='part')} AS key, t.id"
        f"  FROM {connection.ops.quote_name(_TABLE)} t CROSS JOIN LATERAL regexp_split_to_table(t.artist, ';') AS part"
        f"  WHERE {_VISIBLE_CANONICAL} AND btrim(part) <> '' {'AND ' + condition if condition else ''}"
        ") AS credits GROUP BY key"
    )
    return _index_page("artist", sql, params, page)


def album_index(query: str = "", page: int = 1):
    """A page of albums (name, track count, year, its artist when it has one), by name; with `query`, those
    whose name or one of whose artists has a word starting with each of its words."""
    condition, params = _words_match("album || ' ' || artist", query)
    if query and not params:
        return Paginator([], INDEX_PAGE_SIZE).get_page(1)
    table = connection.ops.quote_name(_TABLE)
    narrowed, having = "", ""
    if condition:
        # Only albums of a name some matching track carries are grouped at all; of those, the groups (the name
        # in one folder, or by one artist) with a matching track are kept.
        narrowed = (
            f"AND lower(btrim(t.album)) IN (SELECT lower(btrim(album)) FROM {table} "
            f"WHERE NOT hidden AND duplicate_of_id IS NULL AND album <> '' AND {condition})"
        )
        having = f"HAVING bool_or({condition})"
        params = params + params
    sql = (
        "SELECT key, min(album) AS name, count(*) AS tracks, max(year) AS year, "
        "CASE WHEN min(lower(artist)) = max(lower(artist)) THEN min(artist) END AS artist FROM ("
        f"  SELECT btrim(t.album) AS album, t.artist, t.year, {_ALBUM_KEY.format(t='t')} AS key"
        f"  FROM {table} t WHERE {_VISIBLE_CANONICAL} AND btrim(t.album) <> '' {narrowed}"
        f") AS albums GROUP BY key {having}"
    )
    return _index_page("album", sql, params, page)


@dataclass
class AlbumGroup:
    credit: Credit | None  # None: the tracks without an album
    tracks: list[Track]


@dataclass
class Collection:
    """An artist's or an album's page: its name, its tracks in album order, the artists and albums in it."""

    credit: Credit
    tracks: list[Track]  # the first MAX_TRACKS_SHOWN
    total: int
    every_track: models.QuerySet  # all of them, for a station
    artists: list[Credit] = field(default_factory=list)
    groups: list[AlbumGroup] = field(default_factory=list)

    @property
    def playable(self) -> Track | None:
        """The first track that has audio: "Play all" starts there."""
        return next((track for track in self.tracks if track.has_audio), None)

    @property
    def album_count(self) -> int:
        return sum(1 for group in self.groups if group.credit is not None)

    @property
    def several_artists(self) -> bool:
        return len(self.artists) > 1

    @property
    def years(self) -> str:
        years = sorted({t.year for t in self.tracks if t.year})
        if not years:
            return ""
        return str(years[0]) if years[0] == years[-1] else f"{years[0]}–{years[-1]}"


def _in_album_order(tracks):
    t = connection.ops.quote_name(_TABLE)
    return tracks.annotate(
        album_position=RawSQL(_ALBUM_POSITION.format(t=t), [], output_field=models.TextField()),
        album_sort=RawSQL(f"lower(btrim({t}.album))", [], output_field=models.TextField()),
    )


def _most_common(credits: list[Credit], kind: str) -> list[Credit]:
    """Distinct credits by key, most frequent first, each under its most frequent spelling."""
    by_key = Counter(c.key for c in credits)
    spelling = {key: Counter(c.name for c in credits if c.key == key).most_common(1)[0][0] for key in by_key}
    return [Credit(kind, spelling[key], key) for key, _ in by_key.most_common()]


def _collection_tracks(tracks) -> tuple[list[Track], int]:
    """The first MAX_TRACKS_SHOWN tracks with their credits, and how many there are, in one query."""
    tracks = with_credits(tracks.annotate(total=models.Window(models.Count("pk"))))
    shown = credit_tracks(tracks[:MAX_TRACKS_SHOWN])
    for track in shown:
        seconds = round(track.duration_s) if track.duration_s else 0
        track.duration_text = f"{seconds // 60}:{seconds % 60:02d}" if seconds else ""
    return shown, shown[0].total if shown else 0


def artist_page(key: str) -> Collection | None:
    """The artist with this key, with their visible canonical tracks grouped by album (albums by name, tracks
    without an album last), or None when there is none."""
    t = connection.ops.quote_name(_TABLE)
    credited_to = RawSQL(_CREDITED_TO.format(t=t), [key], output_field=models.BooleanField())
    tracks = _in_album_order(Track.objects.canonical().filter(credited_to)).order_by(
        models.F("album_sort").asc(), "album_position", "title", "pk"
    )
    shown, total = _collection_tracks(tracks)
    if not shown:
        return None
    names = [c for track in shown for c in track.artist_credits if c.key == key]
    credit = _most_common(names, "artist")[0]
    for track in shown:
        track.has_other_artists = any(c.key != key for c in track.artist_credits)
    groups = []
    for album_key, members in itertools.groupby(shown, key=lambda track: track.album_key):
        members = list(members)
        groups.append(AlbumGroup(members[0].album_credit if album_key else None, members))
    # Tracks without an album sort first by name (''); they read better after the albums.
    groups.sort(key=lambda group: group.credit is None)
    ordered = [track for group in groups for track in group.tracks]
    return Collection(credit=credit, tracks=ordered, total=total, every_track=tracks, groups=groups)


def album_page(key: str) -> Collection | None:
    """The album with this key, its visible canonical tracks in album order, or None when there is none."""
    t = connection.ops.quote_name(_TABLE)
    tracks = (
        Track.objects.canonical()
        .exclude(album="")
        .annotate(album_key_only=RawSQL(_ALBUM_KEY.format(t=t), [], output_field=models.TextField()))
        .filter(album_key_only=key)
    )
    tracks = _in_album_order(tracks).order_by("album_position", "title", "pk")
    shown, total = _collection_tracks(tracks)
    if not shown:
        return None
    credit = _most_common([track.album_credit for track in shown], "album")[0]
    artists = _most_common([c for track in shown for c in track.artist_credits], "artist")
    return Collection(credit=credit, tracks=shown, total=total, every_track=tracks, artists=artists)


def spanning_seeds(track_ids: list[int], count: int = MAX_SEEDS) -> list[int]:
    """At most `count` of `track_ids` that can seed a station and spread over their sound (farthest-point
    sampling over the default model's vectors, discovery/engine/spread.py), the most typical first."""
    model = EmbeddingModel.default()
    seedable = seedable_tracks(model).filter(pk__any=list(track_ids))
    rows = list(
        TrackEmbedding.objects.filter(model=model, track__in=seedable)
        .order_by("track_id")
        .values_list("track_id", "vector")
    )
    if not rows:
        return []
    ids = [track_id for track_id, _ in rows]
    return [ids[i] for i in farthest_point_order([vector for _, vector in rows], count)]


def station_from(owner, collection: Collection):
    """A new station of `owner` seeded by up to MAX_SEEDS tracks spanning the artist or album."""
    shown = [track.pk for track in collection.tracks]
    every = shown if collection.total <= len(shown) else list(collection.every_track.values_list("pk", flat=True))
    seeds = spanning_seeds(every)
    if not seeds:
        raise ListenerError(
            f"None of the tracks of {collection.credit.name} is embedded yet, so they cannot start a station."
        )
    return create_station(owner, seeds, f"More like {collection.credit.name}")
