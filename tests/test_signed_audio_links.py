"""Signed playlist links stream a track's audio without a session, for as long as they last, and no further."""

import time
from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse

from tracks import audio_links
from tracks.audio_links import audio_link_path, audio_link_token
from tracks.models import Track

AUDIO_BYTES = bytes(range(256)) * 40  # 10,240 bytes standing in for an audio file
DAY = 86400


@pytest.fixture
def local_track(db, tmp_path, settings):
    settings.MUSIC_DIRS = [tmp_path]  # audio is served from library roots only (tests/test_audio_roots.py)
    path = tmp_path / "clip.ogg"
    path.write_bytes(AUDIO_BYTES)
    return Track.objects.create(title="Clip", source="folder", source_key=str(path), audio_path=str(path))


@pytest.fixture
def other_track(db, tmp_path):
    path = tmp_path / "other.ogg"
    path.write_bytes(b"other" * 100)
    return Track.objects.create(title="Other", source="folder", source_key=str(path), audio_path=str(path))


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def token_made_days_ago(track_id: int, user_id: int, days: float) -> str:
    """A link as the site would have made it `days` ago: same salt and format, an older timestamp."""

    class EarlierSigner(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time() - days * DAY))

    signed = EarlierSigner(salt=audio_links.SALT, sep=audio_links.SEP).sign(f"{track_id}.{user_id}")
    return signed.removeprefix(f"{track_id}.")


def stream_url(track_id: int, token: str) -> str:
    return reverse("track_stream", args=[track_id, token])


@pytest.mark.django_db
class TestSignedAudioLinks:
    def test_a_fresh_link_streams_the_file_without_a_session(self, client, owner, local_track):
        response = client.get(audio_link_path(local_track.pk, owner.pk))
        assert response.status_code == 200
        assert response["Accept-Ranges"] == "bytes" and response["Content-Type"] == "audio/ogg"
        assert body(response) == AUDIO_BYTES
        assert "sessionid" not in response.cookies

    def test_it_answers_a_range_with_206_and_exactly_those_bytes(self, client, owner, local_track):
        response = client.get(audio_link_path(local_track.pk, owner.pk), HTTP_RANGE="bytes=100-199")
        assert response.status_code == 206
        assert response["Content-Range"] == f"bytes 100-199/{len(AUDIO_BYTES)}"
        assert body(response) == AUDIO_BYTES[100:200]

    def test_head_answers_the_size_without_the_body(self, client, owner, local_track):
        response = client.head(audio_link_path(local_track.pk, owner.pk))
        assert response.status_code == 200 and response["Content-Length"] == str(len(AUDIO_BYTES))
        assert body(response) == b""

    def test_a_link_made_six_days_ago_still_plays(self, client, owner, local_track):
        token = token_made_days_ago(local_track.pk, owner.pk, days=6)
        assert client.get(stream_url(local_track.pk, token)).status_code == 200

    def test_a_link_past_its_lifetime_is_403_with_a_sentence(self, client, owner, local_track):
        token = token_made_days_ago(local_track.pk, owner.pk, days=8)
        response = client.get(stream_url(local_track.pk, token))
        assert response.status_code == 403
        assert "This link has expired: playlist links last 7 days." in response.content.decode()

    def test_the_lifetime_is_a_setting(self, client, owner, local_track, settings):
        token = token_made_days_ago(local_track.pk, owner.pk, days=1)
        settings.PLAYLIST_LINK_LIFETIME = timedelta(hours=12)
        response = client.get(stream_url(local_track.pk, token))
        assert response.status_code == 403 and "last 12 hours" in response.content.decode()
        settings.PLAYLIST_LINK_LIFETIME = 2 * DAY  # plain seconds work too
        assert client.get(stream_url(local_track.pk, token)).status_code == 200

    def test_an_altered_signature_is_403(self, client, owner, local_track):
        token = audio_link_token(local_track.pk, owner.pk)
        altered = token[:-1] + ("A" if token[-1] != "A" else "B")
        response = client.get(stream_url(local_track.pk, altered))
        assert response.status_code == 403 and "not valid for this track" in response.content.decode()

    def test_swapping_in_another_account_is_403(self, client, owner, staff, local_track):
        _, timestamp, signature = audio_link_token(local_track.pk, owner.pk).split(".")
        assert client.get(stream_url(local_track.pk, f"{staff.pk}.{timestamp}.{signature}")).status_code == 403

    def test_a_link_for_one_track_does_not_open_another(self, client, owner, local_track, other_track):
        token = audio_link_token(local_track.pk, owner.pk)
        assert client.get(stream_url(other_track.pk, token)).status_code == 403
        assert client.get(stream_url(local_track.pk, token)).status_code == 200

    def test_links_of_a_closed_account_stop_playing(self, client, owner, local_track):
        path = audio_link_path(local_track.pk, owner.pk)
        owner.is_active = False
        owner.save()
        response = client.get(path)
        assert response.status_code == 403 and "account this link was made for is closed" in response.content.decode()
        owner.delete()
        assert client.get(path).status_code == 403

    def test_a_hidden_track_is_404_unless_the_link_was_made_for_staff(self, client, owner, staff, local_track):
        Track.objects.filter(pk=local_track.pk).update(hidden=True)
        assert client.get(audio_link_path(local_track.pk, owner.pk)).status_code == 404
        assert client.get(audio_link_path(local_track.pk, staff.pk)).status_code == 200

    def test_a_file_outside_the_roots_is_never_served(self, client, owner, local_track, settings, tmp_path):
        settings.MUSIC_DIRS = [tmp_path / "elsewhere"]
        assert client.get(audio_link_path(local_track.pk, owner.pk)).status_code == 404

    def test_a_track_with_only_a_preview_url_redirects_to_it(self, client, owner):
        track = Track.objects.create(
            title="Remote", source="itunes", source_key="1", preview_url="https://audio.example/1.m4a"
        )
        response = client.get(audio_link_path(track.pk, owner.pk))
        assert response.status_code == 302 and response["Location"] == "https://audio.example/1.m4a"

    def test_it_refuses_to_write(self, client, owner, local_track):
        assert client.post(audio_link_path(local_track.pk, owner.pk)).status_code == 405


def test_the_lifetime_reads_as_words(settings):
    for lifetime, words in [
        (timedelta(days=7), "7 days"),
        (timedelta(days=1), "1 day"),
        (timedelta(hours=12), "12 hours"),
        (90, "2 minutes"),
    ]:
        settings.PLAYLIST_LINK_LIFETIME = lifetime
        assert audio_links.lifetime_in_words() == words
