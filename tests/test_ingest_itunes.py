"""ingest_itunes against a local stand-in for the iTunes Search API, on 127.0.0.1."""

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.audio_samples import tone, write_clip
from tracks.itunes import ITunesClient, ITunesError
from tracks.models import Track


def song(track_id, name, genre="Electronic", preview=True, **extra):
    result = {
        "wrapperType": "track", "kind": "song", "trackId": track_id, "trackName": name,
        "artistName": "Test Artist", "collectionName": "Test Album", "primaryGenreName": genre,
        "releaseDate": "2014-05-02T07:00:00Z", "trackTimeMillis": 215000,
        "artworkUrl100": f"https://artwork.example/{track_id}/100x100bb.jpg",
    }
    if preview:
        result["previewUrl"] = f"{{base}}/previews/{track_id}.m4a"
    result.update(extra)
    return result


class FakeITunes:
    """Serves /search JSON and /previews/<id>.m4a; can answer with errors first, like the real service."""

    def __init__(self, previews: dict[int, bytes], results: list[dict]):
        self.previews, self.results = previews, results
        self.search_failures: list[int] = []  # statuses to answer before a search succeeds
        self.retry_after: str | None = "0"  # the Retry-After header sent with those failures
        self.requests: list[str] = []
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake.requests.append(self.path)
                url = urllib.parse.urlparse(self.path)
                if url.path == "/search":
                    if fake.search_failures:
                        self.send_response(fake.search_failures.pop(0))
                        if fake.retry_after is not None:
                            self.send_header("Retry-After", fake.retry_after)
                        self.end_headers()
                        return
                    query = urllib.parse.parse_qs(url.query)
                    assert query["entity"] == ["song"] and query["media"] == ["music"]
                    body = json.dumps({"resultCount": len(fake.results), "results": [
                        {k: (v.format(base=fake.base) if isinstance(v, str) else v) for k, v in r.items()}
                        for r in fake.results[: int(query["limit"][0])]
                    ]}).encode()
                    self._send(200, body, "text/javascript; charset=utf-8")
                elif url.path.startswith("/previews/"):
                    track_id = int(Path(url.path).stem)
                    if track_id in fake.previews:
                        self._send(200, fake.previews[track_id], "audio/x-m4a")
                    else:
                        self._send(404, b"not found", "text/plain")
                else:
                    self._send(404, b"", "text/plain")

            def _send(self, status, body, content_type):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def preview_bytes(tmp_path):
    return write_clip(tmp_path / "preview.m4a", seconds=1.5, codec="aac").read_bytes()


@pytest.fixture
def other_preview_bytes(tmp_path):
    return write_clip(tmp_path / "other.m4a", seconds=2.0, codec="aac", signal=lambda s, r: tone(s, r)).read_bytes()


@pytest.fixture
def fake_itunes(preview_bytes, other_preview_bytes, settings):
    results = [
        song(101, "First Light"),
        song(102, "Second Wind"),
        song(103, "Missing Preview"),  # its preview answers 404
        song(104, "Jazz Interlude", genre="Jazz"),
        song(105, "No Preview", preview=False),
    ]
    previews = {101: preview_bytes, 102: other_preview_bytes, 104: preview_bytes}
    with FakeITunes(previews, results) as fake:
        settings.ITUNES_BASE_URL = fake.base
        settings.ITUNES_REQUESTS_PER_MINUTE = 0  # no spacing in tests; the client's own test covers it
        yield fake


@pytest.mark.django_db
class TestIngestItunes:
    def test_it_adds_songs_with_their_previews_and_metadata(self, fake_itunes, capsys):
        call_command("ingest_itunes", "--term", "test", "--limit", "10")
        tracks = {t.source_key: t for t in Track.objects.all()}
        first = tracks["101"]
        assert (first.title, first.artist, first.album, first.genre, first.year) == (
            "First Light", "Test Artist", "Test Album", "Electronic", 2014,
        )
        assert first.duration_s == 215.0 and first.source == Track.Source.ITUNES
        assert first.artwork_url == "https://artwork.example/101/600x600bb.jpg"
        assert first.preview_url == f"{fake_itunes.base}/previews/101.m4a"
        assert first.status == Track.Status.PENDING and Path(first.audio_file.path).stat().st_size > 0
        assert "No Preview" not in {t.title for t in tracks.values()}

    def test_a_preview_that_cannot_be_downloaded_fails_that_track_only(self, fake_itunes, capsys):
        call_command("ingest_itunes", "--term", "test")
        missing = Track.objects.get(source_key="103")
        assert missing.status == Track.Status.FAILED and "HTTP 404" in missing.error
        assert Track.objects.filter(status=Track.Status.PENDING).count() == 3
        assert "3 added" in capsys.readouterr().out

    def test_a_second_run_downloads_nothing_again(self, fake_itunes, capsys):
        call_command("ingest_itunes", "--term", "test")
        downloads = sum(p.startswith("/previews/") for p in fake_itunes.requests)
        capsys.readouterr()
        call_command("ingest_itunes", "--term", "test")
        assert sum(p.startswith("/previews/") for p in fake_itunes.requests) == downloads + 1  # only the 404 again
        assert Track.objects.count() == 4 and "0 added" in capsys.readouterr().out

    def test_the_genre_filter_keeps_that_genre_only(self, fake_itunes):
        call_command("ingest_itunes", "--term", "test", "--genre", "jazz")
        assert list(Track.objects.values_list("title", flat=True)) == ["Jazz Interlude"]

    def test_it_retries_after_429_and_5xx(self, fake_itunes):
        fake_itunes.search_failures = [429, 503]
        call_command("ingest_itunes", "--term", "test", "--limit", "1")
        assert [p.split("?")[0] for p in fake_itunes.requests[:3]] == ["/search"] * 3
        assert Track.objects.get().source_key == "101"

    def test_it_gives_up_with_a_clear_error_when_the_api_keeps_refusing(self, fake_itunes, settings):
        fake_itunes.search_failures = [403] * 10
        with pytest.raises(CommandError, match="answered HTTP 403"):
            call_command("ingest_itunes", "--term", "test")
        assert not Track.objects.exists()

    @pytest.mark.parametrize(
        "args, message", [(["--limit", "0"], "between 1 and 200"), (["--country", "USA"], "two-letter")]
    )
    def test_bad_options_are_refused(self, fake_itunes, args, message):
        with pytest.raises(CommandError, match=message):
            call_command("ingest_itunes", "--term", "test", *args)


class FakeTime:
    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class TestITunesClient:
    def test_requests_are_spaced_to_the_rate(self, fake_itunes):
        time = FakeTime()
        client = ITunesClient(fake_itunes.base, requests_per_minute=20, sleep=time.sleep, clock=time.clock)
        for _ in range(3):
            client.search("test", limit=1)
        assert time.sleeps == [pytest.approx(3.0), pytest.approx(3.0)]

    def test_backoff_doubles_between_attempts(self, fake_itunes):
        fake_itunes.search_failures, fake_itunes.retry_after = [500, 502, 429], None
        time = FakeTime()
        client = ITunesClient(
            fake_itunes.base, requests_per_minute=0, backoff_s=2.0, sleep=time.sleep, clock=time.clock
        )
        assert len(client.search("test", limit=1)) == 1
        assert time.sleeps == [2.0, 4.0, 8.0]

    def test_retry_after_wins_over_the_backoff(self, fake_itunes):
        fake_itunes.search_failures, fake_itunes.retry_after = [429], "7"
        time = FakeTime()
        client = ITunesClient(
            fake_itunes.base, requests_per_minute=0, backoff_s=2.0, sleep=time.sleep, clock=time.clock
        )
        client.search("test", limit=1)
        assert time.sleeps == [7.0]

    def test_an_unreachable_server_is_a_clear_error(self):
        time = FakeTime()
        client = ITunesClient(
            "http://127.0.0.1:9", requests_per_minute=0, max_attempts=2, sleep=time.sleep, clock=time.clock
        )
        with pytest.raises(ITunesError, match="could not be reached"):
            client.search("test")
        assert time.sleeps == [2.0]
