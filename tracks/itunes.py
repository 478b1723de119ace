"""A polite client of the iTunes Search API and the ingest of its 30-second previews.

Apple documents about 20 calls per minute per client; the client spaces every request (searches and preview
downloads alike) to stay under a rate, and retries 403, 429 and 5xx answers with exponential backoff,
honouring Retry-After. https://performance-partners.apple.com/search-api
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tracks.artwork import store_artwork_from_url
from tracks.models import Track
from tracks.services import IngestReport, save_audio_track

log = logging.getLogger(__name__)

RETRY_STATUSES = {403, 429, 500, 502, 503, 504}
MAX_LIMIT = 200  # the API's own maximum per search
USER_AGENT = "Wavelength/1.0 (self-hosted music discovery)"


class ITunesError(RuntimeError):
    """The API could not be used; the message says what happened."""


@dataclass
class ITunesClient:
    base_url: str
    requests_per_minute: float = 20.0
    max_attempts: int = 5
    backoff_s: float = 2.0
    timeout_s: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self):
        self._last_request_at: float | None = None

    def search(self, term: str, *, country: str = "US", limit: int = 200) -> list[dict]:
        """Songs matching `term` (entity=song), as the API's result dicts."""
        query = urllib.parse.urlencode(
            {"term": term, "country": country, "media": "music", "entity": "song", "limit": min(limit, MAX_LIMIT)}
        )
        body = self._get(f"{self.base_url.rstrip('/')}/search?{query}")
        try:
            payload = json.loads(body)
        except ValueError as error:
            raise ITunesError(f"The iTunes API answered with something that is not JSON: {error}.") from error
        return [r for r in payload.get("results", []) if r.get("kind", "song") == "song"]

    def download(self, url: str, destination: Path) -> None:
        destination.write_bytes(self._get(url))

    def fetch(self, url: str) -> bytes:
        """The body at `url` (a song's artwork), spaced, retried and timed out like every other request."""
        return self._get(url)

    def _wait_for_turn(self) -> None:
        interval = 60.0 / self.requests_per_minute if self.requests_per_minute > 0 else 0.0
        if self._last_request_at is not None:
            wait = self._last_request_at + interval - self.clock()
            if wait > 0:
                self.sleep(wait)
        self._last_request_at = self.clock()

    def _get(self, url: str) -> bytes:
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        for attempt in range(1, self.max_attempts + 1):
            self._wait_for_turn()
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    return response.read()
            except urllib.error.HTTPError as error:
                if error.code not in RETRY_STATUSES or attempt == self.max_attempts:
                    raise ITunesError(f"{url} answered HTTP {error.code} {error.reason}.") from error
                retry_after = _retry_after(error)
                delay = retry_after if retry_after is not None else self.backoff_s * 2 ** (attempt - 1)
                log.warning("HTTP %s from %s; retrying in %.1f s", error.code, url, delay)
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                if attempt == self.max_attempts:
                    reason = getattr(error, "reason", error)
                    raise ITunesError(f"{url} could not be reached: {reason}.") from error
                delay = self.backoff_s * 2 ** (attempt - 1)
                log.warning("%s from %s; retrying in %.1f s", error, url, delay)
            self.sleep(delay)
        raise AssertionError("unreachable")


def _retry_after(error: urllib.error.HTTPError) -> float | None:
    value = error.headers.get("Retry-After") if error.headers else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _year(release_date: str | None) -> int | None:
    try:
        return date.fromisoformat((release_date or "")[:10]).year
    except ValueError:
        return None


def track_metadata(result: dict) -> dict:
    artwork = result.get("artworkUrl100") or ""
    millis = result.get("trackTimeMillis")
    return {
        "title": (result.get("trackName") or "")[:500],
        "artist": (result.get("artistName") or "")[:500],
        "album": (result.get("collectionName") or "")[:500],
        "genre": (result.get("primaryGenreName") or "")[:200],
        "year": _year(result.get("releaseDate")),
        # The preview is 30 s; the track's real length is what tells re-releases apart.
        "duration_s": millis / 1000.0 if isinstance(millis, (int, float)) and millis > 0 else None,
        # The API serves any size by name; 600×600 looks sharp on the results page.
        "artwork_url": artwork.replace("100x100bb", "600x600bb"),
        "preview_url": result.get("previewUrl") or "",
    }


def ingest_itunes(
    client: ITunesClient,
    term: str,
    *,
    country: str = "US",
    limit: int = 200,
    genre: str | None = None,
    progress: Callable[[Iterable[dict]], Iterable[dict]] = iter,
) -> IngestReport:
    """Search, then add each song with a preview (idempotent on trackId; the preview is downloaded once)."""
    report = IngestReport()
    results = client.search(term, country=country, limit=limit)
    if genre:
        results = [r for r in results if (r.get("primaryGenreName") or "").casefold() == genre.casefold()]
    for result in progress(results):
        track_id, preview_url = result.get("trackId"), result.get("previewUrl")
        if not track_id or not preview_url:
            report.skipped.append(str(result.get("trackName") or track_id))
            continue
        metadata = track_metadata(result)
        existing = Track.objects.filter(source=Track.Source.ITUNES, source_key=str(track_id)).first()
        if existing is not None and existing.audio_file and existing.status != Track.Status.FAILED:
            Track.objects.filter(pk=existing.pk).update(**metadata)
            report.unchanged += 1
            continue
        label = f"{metadata['artist']} – {metadata['title']} ({track_id})"
        with tempfile.TemporaryDirectory(prefix="wavelength-itunes-") as folder:
            suffix = Path(urllib.parse.urlparse(preview_url).path).suffix or ".m4a"
            preview = Path(folder) / f"{track_id}{suffix}"
            try:
                client.download(preview_url, preview)
            except ITunesError as error:
                _record_failure(track_id, metadata, f"The preview could not be downloaded: {error}")
                report.failed.append((label, str(error)))
                continue
            track, outcome = save_audio_track(
                preview, source=Track.Source.ITUNES, source_key=str(track_id), copy_into_storage=True,
                metadata=metadata,
            )
        if outcome != "failed":
            store_artwork_from_url(track, client.fetch)
        report.count(track, outcome, label)
    return report


def _record_failure(track_id, metadata: dict, reason: str) -> None:
    Track.objects.update_or_create(
        source=Track.Source.ITUNES,
        source_key=str(track_id),
        defaults={**metadata, "status": Track.Status.FAILED, "error": reason},
    )
