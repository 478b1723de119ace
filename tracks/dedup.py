"""Re-releases and remasters of one recording point to one canonical track.

Three signals say two tracks are the same recording:
- the same bytes (content SHA-256), checked here when a file is ingested;
- vectors almost identical (cosine at least the model's threshold in settings.DEDUP_MIN_COSINE, chosen on
  measurements in docs/benchmarks.md) *and* durations within DEDUP_DURATION_TOLERANCE, checked by
  embedding/dedup.py once a track has its vector;
- the same title and artist once re-release markers ("Remastered 2011", "Deluxe Edition") are removed, *and*
  durations within DEDUP_DURATION_TOLERANCE (two pieces may share a title tag, "Intro" or a multi-valued
  "Alpha; Beta", and an artist; one recording cannot last 72 s on one release and 128 s on another).
A group's canonical track is the longest, then the oldest. Live versions, remixes and edits keep their
marker in the title and differ in sound, so they stay separate.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction

from tracks.models import Track

_MARKER_WORDS = (
    r"(?:\d{4}\s+)?(?:digital(?:ly)?\s+)?re-?master(?:ed)?(?:\s+version)?(?:\s+\d{4})?"
    r"|re-?issue|re-?release|deluxe(?:\s+edition)?|expanded(?:\s+edition)?|anniversary(?:\s+edition)?"
    r"|(?:album|single|lp|original)\s+version|bonus\s+track|mono|stereo"
)
_BRACKETED_MARKER = re.compile(rf"[\(\[]\s*(?:{_MARKER_WORDS})(?:\s*[;,/]\s*(?:{_MARKER_WORDS}))*\s*[\)\]]", re.I)
_TRAILING_MARKER = re.compile(rf"\s+-\s+(?:{_MARKER_WORDS})\s*$", re.I)
_FEATURING = re.compile(r"\s*[\(\[]?\s*(?:feat\.?|featuring|ft\.)\s+[^\)\]]*[\)\]]?", re.I)
_NOT_WORD = re.compile(r"[^\w]+")


def normalise_title(title: str) -> str:
    text = unicodedata.normalize("NFKC", title)
    text = _BRACKETED_MARKER.sub(" ", text)
    text = _TRAILING_MARKER.sub(" ", text)
    text = _FEATURING.sub(" ", text)
    return _NOT_WORD.sub(" ", text.casefold()).strip()


def normalise_artist(artist: str) -> str:
    text = _FEATURING.sub(" ", unicodedata.normalize("NFKC", artist))
    text = _NOT_WORD.sub(" ", text.casefold()).strip()
    return text.removeprefix("the ")


def durations_close(a: float | None, b: float | None, tolerance: tuple[float, float] | None = None) -> bool:
    """Within max(absolute seconds, relative fraction) of each other; unknown durations never match."""
    if a is None or b is None:
        return False
    seconds, fraction = tolerance or settings.DEDUP_DURATION_TOLERANCE
    return abs(a - b) <= max(seconds, fraction * max(a, b))


def canonical_track(tracks: Iterable[Track]) -> Track:
    """The longest, then the oldest (then the first created) of a group of the same recording."""
    return min(tracks, key=lambda t: (-(t.duration_s or 0.0), t.created, t.pk))


def _group_of(track: Track) -> set[Track]:
    root = track.duplicate_of or track
    return {root, *root.duplicates.all()}


def link_group(tracks: Iterable[Track]) -> Track:
    """Make every track of `tracks` (and of the groups they already belong to) point to one canonical."""
    group: set[Track] = set()
    for track in tracks:
        group |= _group_of(track)
    canonical = canonical_track(group)
    with transaction.atomic():
        Track.objects.filter(pk__in=[t.pk for t in group if t.pk != canonical.pk]).update(duplicate_of=canonical)
        Track.objects.filter(pk=canonical.pk).update(duplicate_of=None)
    for track in group:
        track.duplicate_of = None if track.pk == canonical.pk else canonical
    return canonical


def link_exact_duplicates(track: Track) -> None:
    if not track.content_sha256:
        return
    same_bytes = list(Track.objects.filter(content_sha256=track.content_sha256).exclude(pk=track.pk))
    if same_bytes:
        link_group([track, *same_bytes])


def same_title_and_artist(track: Track) -> list[Track]:
    """Other tracks with the same title and artist (markers removed) and a close duration."""
    title, artist = normalise_title(track.title), normalise_artist(track.artist)
    if not title or not artist or track.duration_s is None:
        return []
    candidates = Track.objects.exclude(pk=track.pk).filter(title__istartswith=track.title[:3])
    return [
        c
        for c in candidates
        if normalise_title(c.title) == title
        and normalise_artist(c.artist) == artist
        and durations_close(c.duration_s, track.duration_s)
    ]
