import pytest
from django.urls import reverse

from tracks.models import Track
from tracks.streaming import parse_byte_range

AUDIO_BYTES = bytes(range(256)) * 40  # 10,240 bytes standing in for an audio file


@pytest.fixture
def local_track(db, tmp_path, settings):
    settings.MUSIC_DIRS = [tmp_path]  # audio is served from library roots only (tests/test_audio_roots.py)
    path = tmp_path / "clip.ogg"
    path.write_bytes(AUDIO_BYTES)
    return Track.objects.create(title="Clip", source="folder", source_key=str(path), audio_path=str(path))


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.django_db
class TestTrackAudio:
    def test_it_streams_the_whole_file_and_offers_ranges(self, owner_client, local_track):
        response = owner_client.get(reverse("track_audio", args=[local_track.pk]))
        assert response.status_code == 200
        assert response["Accept-Ranges"] == "bytes" and response["Content-Type"] == "audio/ogg"
        assert body(response) == AUDIO_BYTES

    def test_it_answers_a_range_with_206_and_exactly_those_bytes(self, owner_client, local_track):
        response = owner_client.get(reverse("track_audio", args=[local_track.pk]), HTTP_RANGE="bytes=100-199")
        assert response.status_code == 206
        assert response["Content-Range"] == f"bytes 100-199/{len(AUDIO_BYTES)}"
        assert response["Content-Length"] == "100"
        assert body(response) == AUDIO_BYTES[100:200]

    def test_it_answers_an_open_ended_and_a_suffix_range(self, owner_client, local_track):
        url = reverse("track_audio", args=[local_track.pk])
        assert body(owner_client.get(url, HTTP_RANGE="bytes=10200-")) == AUDIO_BYTES[10200:]
        assert body(owner_client.get(url, HTTP_RANGE="bytes=-16")) == AUDIO_BYTES[-16:]

    def test_a_range_beyond_the_end_is_416(self, owner_client, local_track):
        response = owner_client.get(reverse("track_audio", args=[local_track.pk]), HTTP_RANGE="bytes=99999-")
        assert response.status_code == 416
        assert response["Content-Range"] == f"bytes */{len(AUDIO_BYTES)}"

    def test_a_track_with_only_a_preview_url_redirects_to_it(self, owner_client):
        track = Track.objects.create(
            title="Remote", source="itunes", source_key="1", preview_url="https://audio.example/1.m4a"
        )
        response = owner_client.get(reverse("track_audio", args=[track.pk]))
        assert response.status_code == 302 and response["Location"] == "https://audio.example/1.m4a"

    def test_a_missing_file_is_404(self, owner_client, local_track, tmp_path):
        (tmp_path / "clip.ogg").unlink()
        assert owner_client.get(reverse("track_audio", args=[local_track.pk])).status_code == 404

    def test_hidden_tracks_play_for_staff_only(self, client, owner, staff, local_track):
        Track.objects.filter(pk=local_track.pk).update(hidden=True)
        url = reverse("track_audio", args=[local_track.pk])
        client.force_login(owner)
        assert client.get(url).status_code == 404
        client.force_login(staff)
        assert client.get(url).status_code == 200

    def test_it_refuses_to_write(self, owner_client, local_track):
        assert owner_client.post(reverse("track_audio", args=[local_track.pk])).status_code == 405


class TestParseByteRange:
    @pytest.mark.parametrize(
        "header, expected",
        [
            ("bytes=0-0", (0, 0)),
            ("bytes=5-", (5, 99)),
            ("bytes=90-500", (90, 99)),
            ("bytes=-10", (90, 99)),
            ("bytes=-500", (0, 99)),
            ("bytes=0-1,5-6", None),
            ("items=0-5", None),
            ("bytes=-", None),
        ],
    )
    def test_it_reads_single_byte_ranges(self, header, expected):
        assert parse_byte_range(header, 100) == expected

    @pytest.mark.parametrize("header", ["bytes=100-", "bytes=50-10", "bytes=-0"])
    def test_it_rejects_unsatisfiable_ranges(self, header):
        with pytest.raises(ValueError):
            parse_byte_range(header, 100)
