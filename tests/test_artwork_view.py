"""GET /tracks/<id>/artwork/ (embedding/artwork_views.py): the stored thumbnail, else a tile from the sound."""

import colorsys

import numpy as np
import pytest
from django.core.cache import cache
from django.urls import reverse

from embedding.models import EmbeddingModel, TrackEmbedding
from tests.artwork_samples import picture_bytes
from tracks.artwork import store_picture
from tracks.models import Track


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()  # the catalogue's centre is cached between requests


@pytest.fixture
def covered(db):
    sha256 = store_picture(picture_bytes((200, 40, 40)))
    return Track.objects.create(title="Covered", source="folder", source_key="/m/a.flac", artwork_sha256=sha256)


@pytest.fixture
def embedded(db):
    """Three tracks with vectors: two that sound alike and one that does not."""
    model = EmbeddingModel.objects.create(name="test-model", dim=16, is_default=True)
    rng = np.random.default_rng(3)
    base, other = rng.normal(size=16), rng.normal(size=16)
    tracks = []
    for name, vector in [("near-a", base), ("near-b", base + 0.02 * rng.normal(size=16)), ("far", other)]:
        track = Track.objects.create(title=name, source="folder", source_key=f"/m/{name}.flac", status="ready")
        TrackEmbedding.objects.create(track=track, model=model, vector=vector / np.linalg.norm(vector))
        tracks.append(track)
    return tracks


def url(track, size=None):
    address = reverse("track_artwork", args=[track.pk])
    return f"{address}?size={size}" if size else address


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.django_db
class TestTrackArtwork:
    def test_it_serves_the_stored_thumbnail_of_each_size(self, owner_client, covered):
        small = owner_client.get(url(covered))
        large = owner_client.get(url(covered, "large"))
        assert small.status_code == 200 and small["Content-Type"] == "image/jpeg"
        assert body(small)[:3] == b"\xff\xd8\xff" and len(body(large)) > len(body(small))
        assert "private" in small["Cache-Control"] and "max-age=3600" in small["Cache-Control"]
        assert small["ETag"] != large["ETag"]

    def test_a_known_etag_gets_304(self, owner_client, covered):
        etag = owner_client.get(url(covered)).headers["ETag"]
        again = owner_client.get(url(covered), HTTP_IF_NONE_MATCH=etag)
        assert again.status_code == 304 and not again.content

    def test_a_track_without_art_gets_an_svg_tile_that_similar_tracks_share(self, owner_client, embedded):
        near_a, near_b, far = (owner_client.get(url(track)) for track in embedded)
        assert near_a.status_code == 200 and near_a["Content-Type"] == "image/svg+xml"
        assert near_a.content.startswith(b"<svg") and b"\xe2\x99\xaa" not in near_a.content  # never a "♪"
        colours = [response.content.split(b'stop-color="')[1][:7] for response in (near_a, near_b, far)]
        assert colours[0] == colours[1] or _hue_gap(colours[0], colours[1]) < _hue_gap(colours[0], colours[2])
        assert near_a["ETag"].startswith('"tile-') and near_a["ETag"] != far["ETag"]

    def test_a_tile_is_the_same_on_every_request(self, owner_client, embedded):
        first = owner_client.get(url(embedded[2], "large"))
        cache.clear()
        assert owner_client.get(url(embedded[2], "large")).content == first.content
        assert b'width="320"' in first.content

    def test_a_track_not_embedded_yet_gets_the_grey_tile(self, owner_client):
        pending = Track.objects.create(title="New", source="folder", source_key="/m/new.flac")
        response = owner_client.get(url(pending))
        assert response.status_code == 200 and b'stop-color="#' in response.content

    def test_an_itunes_preview_not_fetched_yet_shows_apples_artwork(self, owner_client):
        track = Track.objects.create(
            title="Remote", source="itunes", source_key="9", artwork_url="https://is1-ssl.mzstatic.com/9/600x600bb.jpg"
        )
        response = owner_client.get(url(track))
        assert response.status_code == 302 and response["Location"] == track.artwork_url

    def test_a_size_that_is_not_one_is_refused_with_a_sentence(self, owner_client, covered):
        response = owner_client.get(url(covered, "huge"))
        assert response.status_code == 400 and "“small” or “large”" in response.content.decode()

    def test_it_needs_a_signed_in_listener(self, client, covered):
        response = client.get(url(covered))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_every_listener_sees_a_visible_tracks_artwork(self, client, outsider, covered):
        client.force_login(outsider)
        assert client.get(url(covered)).status_code == 200

    def test_hidden_tracks_artwork_is_for_staff_only(self, client, owner, staff, covered):
        Track.objects.filter(pk=covered.pk).update(hidden=True)
        client.force_login(owner)
        assert client.get(url(covered)).status_code == 404
        client.force_login(staff)
        assert client.get(url(covered)).status_code == 200

    def test_an_unknown_track_is_404(self, owner_client):
        assert owner_client.get(reverse("track_artwork", args=[999999])).status_code == 404

    def test_a_post_is_refused(self, owner_client, covered):
        assert owner_client.post(url(covered)).status_code == 405


def _hue_gap(first: bytes, second: bytes) -> float:
    def hue(colour: bytes) -> float:
        red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        return colorsys.rgb_to_hls(red, green, blue)[0] * 360

    gap = abs(hue(first) - hue(second)) % 360
    return min(gap, 360 - gap)
