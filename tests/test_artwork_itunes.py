"""iTunes previews get their artwork from the search result's artworkUrl100, fetched by the iTunes client from
a local stand-in for Apple's servers on 127.0.0.1."""

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from tests.artwork_samples import picture_bytes
from tests.audio_samples import write_clip
from tracks.artwork import artwork_url_allowed, stored_thumbnail
from tracks.itunes import ITunesClient, ingest_itunes
from tracks.models import Track

GREEN = (40, 180, 60)


class FakeApple:
    """/search answers `results`; every other path answers what `files` holds for it, else 404."""

    def __init__(self):
        self.results: list[dict] = []
        self.files: dict[str, tuple[bytes, str]] = {}
        self.requests: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake.requests.append(self.path)
                path = urllib.parse.urlparse(self.path).path
                if path == "/search":
                    body, content_type = json.dumps({"results": fake.results}).encode(), "text/javascript"
                elif path in fake.files:
                    body, content_type = fake.files[path]
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def song(self, track_id: int, artwork: str | None = None) -> dict:
        return {
            "kind": "song", "trackId": track_id, "trackName": f"Song {track_id}", "artistName": "Band",
            "previewUrl": f"{self.base}/previews/{track_id}.m4a",
            "artworkUrl100": artwork or f"{self.base}/artwork/{track_id}/100x100bb.jpg",
        }

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def apple(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    fake = FakeApple()
    settings.ITUNES_BASE_URL = fake.base
    preview = write_clip(tmp_path / "preview.m4a", seconds=1.5, codec="aac").read_bytes()
    for track_id in (1, 2, 3, 4):
        fake.files[f"/previews/{track_id}.m4a"] = (preview, "audio/x-m4a")
    yield fake
    fake.close()


def client(apple) -> ITunesClient:
    return ITunesClient(apple.base, requests_per_minute=0, max_attempts=2, backoff_s=0.0, timeout_s=5.0)


@pytest.mark.django_db
class TestItunesArtwork:
    def test_a_preview_gets_the_600_px_artwork_of_its_search_result(self, apple):
        apple.results = [apple.song(1)]
        apple.files["/artwork/1/600x600bb.jpg"] = (picture_bytes(GREEN, size=(600, 600)), "image/jpeg")
        report = ingest_itunes(client(apple), "band")
        track = Track.objects.get()
        assert len(report.added) == 1 and track.status == Track.Status.PENDING
        assert "/artwork/1/600x600bb.jpg" in apple.requests
        with Image.open(stored_thumbnail(track, "large")) as image:
            assert image.size == (320, 320) and image.convert("RGB").getpixel((160, 200))[1] > 150

    def test_artwork_that_is_missing_or_not_a_picture_leaves_the_track_without_art(self, apple):
        apple.results = [apple.song(2), apple.song(3)]  # 2: 404; 3: a web page instead of a picture
        apple.files["/artwork/3/600x600bb.jpg"] = (b"<html>Not here</html>", "text/html")
        report = ingest_itunes(client(apple), "band")
        assert len(report.added) == 2 and not report.failed
        assert list(Track.objects.values_list("status", "artwork_sha256")) == [("pending", ""), ("pending", "")]
        assert apple.requests.count("/artwork/2/600x600bb.jpg") == 1  # a 404 is not asked again

    def test_artwork_pointing_at_another_host_is_never_fetched(self, apple):
        apple.results = [apple.song(4, artwork="http://127.0.0.2:9/elsewhere/100x100bb.jpg")]
        report = ingest_itunes(client(apple), "band")
        assert len(report.added) == 1 and Track.objects.get().artwork_sha256 == ""
        assert not any("elsewhere" in path for path in apple.requests)


@pytest.mark.parametrize(
    "url, allowed",
    [
        ("https://is1-ssl.mzstatic.com/image/thumb/Music/ab/600x600bb.jpg", True),
        ("https://mzstatic.com/a.jpg", True),
        ("https://evilmzstatic.com/a.jpg", False),
        ("https://mzstatic.com.example.org/a.jpg", False),
        ("file:///etc/passwd", False),
        ("", False),
    ],
)
def test_only_apples_artwork_hosts_and_the_api_host_are_fetched(url, allowed, settings):
    settings.ITUNES_BASE_URL = "https://itunes.apple.com"
    assert artwork_url_allowed(url) is allowed
    assert artwork_url_allowed("https://itunes.apple.com/artwork/1.jpg")
