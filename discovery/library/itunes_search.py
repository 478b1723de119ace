"""Searching iTunes from the Add music page: the hits a staff member chooses from.

Every search of a web process goes through one client per process, behind a lock, so that the client's
spacing (ITUNES_REQUESTS_PER_MINUTE) holds across requests and threads, not only within one. A search asks
once and does not wait out Apple's backoff inside a page request: it says to try again instead.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from django.conf import settings

from tracks.itunes import ITunesClient, ITunesError, track_metadata
from tracks.models import Track

SEARCH_LIMIT = 50

_lock = threading.Lock()
_clients: dict[tuple[str, float], ITunesClient] = {}


@dataclass(frozen=True)
class Hit:
    track_id: int
    title: str
    artist: str
    album: str
    year: int | None
    artwork_url: str
    preview_url: str
    in_catalogue: str  # the catalogue's status of this song ("ready", "pending", "failed"), or ""


def _client() -> ITunesClient:
    key = (settings.ITUNES_BASE_URL, float(settings.ITUNES_REQUESTS_PER_MINUTE))
    if key not in _clients:
        _clients[key] = ITunesClient(key[0], requests_per_minute=key[1], max_attempts=1, timeout_s=15.0)
    return _clients[key]


def search_songs(term: str, country: str) -> list[Hit]:
    """Songs matching `term` in `country`'s store that have a preview to import; ITunesError if Apple fails."""
    with _lock:
        results = _client().search(term, country=country, limit=SEARCH_LIMIT)
    results = [r for r in results if isinstance(r.get("trackId"), int) and r.get("previewUrl")]
    known = dict(
        Track.objects.filter(source=Track.Source.ITUNES, source_key__in=[str(r["trackId"]) for r in results])
        .values_list("source_key", "status")
    )
    hits = []
    for result in results:
        metadata = track_metadata(result)
        hits.append(
            Hit(
                track_id=result["trackId"],
                title=metadata["title"] or "Untitled",
                artist=metadata["artist"],
                album=metadata["album"],
                year=metadata["year"],
                artwork_url=result.get("artworkUrl100") or "",  # the small size: it is shown small
                preview_url=metadata["preview_url"],
                in_catalogue=known.get(str(result["trackId"]), ""),
            )
        )
    return hits


def search_failure(error: ITunesError) -> str:
    return f"The iTunes search did not work: {error} Try again in a minute."

