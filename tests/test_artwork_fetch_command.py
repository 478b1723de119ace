"""`manage.py fetch_artwork`: artwork for tracks that were ingested before there was any."""

import pytest
from django.core.management import call_command

from tests.artwork_samples import picture_bytes, write_clip_with_picture
from tests.audio_samples import write_clip
from tests.test_artwork_itunes import FakeApple
from tracks.artwork import store_picture, stored_thumbnail
from tracks.models import Track


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ITUNES_REQUESTS_PER_MINUTE = 0
    return settings.MEDIA_ROOT


def folder_track(path, **fields) -> Track:
    """A track as an ingest before artwork left it: its file, and no artwork_sha256."""
    return Track.objects.create(title=path.stem, source="folder", source_key=str(path), audio_path=str(path), **fields)


@pytest.mark.django_db
class TestFetchArtwork:
    def test_it_finds_attached_pictures_and_covers_for_tracks_without_art(self, tmp_path, capsys):
        album = tmp_path / "Music"
        attached = folder_track(write_clip_with_picture(album / "attached.mp3", picture_bytes((200, 40, 40))))
        (tmp_path / "Other").mkdir()
        (tmp_path / "Other" / "COVER.jpg").write_bytes(picture_bytes((30, 60, 210)))
        beside = folder_track(write_clip(tmp_path / "Other" / "beside.wav"))
        bare = folder_track(write_clip(tmp_path / "bare.wav"))
        call_command("fetch_artwork", "--no-itunes")
        attached.refresh_from_db(), beside.refresh_from_db(), bare.refresh_from_db()
        assert stored_thumbnail(attached, "small") and stored_thumbnail(beside, "large")
        assert attached.artwork_sha256 != beside.artwork_sha256 and bare.artwork_sha256 == ""
        assert "Looked at 3 track(s): 2 have artwork, 1 get a tile" in capsys.readouterr().out

    def test_it_leaves_tracks_with_art_alone_unless_asked_for_all(self, tmp_path, capsys):
        path = write_clip_with_picture(tmp_path / "a.mp3", picture_bytes((200, 40, 40)))
        kept = store_picture(picture_bytes((0, 200, 0)))
        track = folder_track(path, artwork_sha256=kept)
        call_command("fetch_artwork", "--no-itunes")
        track.refresh_from_db()
        assert track.artwork_sha256 == kept and "Looked at 0 track(s)" in capsys.readouterr().out
        call_command("fetch_artwork", "--no-itunes", "--all")
        track.refresh_from_db()
        assert track.artwork_sha256 not in ("", kept)  # the file's own picture now

    def test_a_missing_file_changes_nothing(self, tmp_path):
        kept = store_picture(picture_bytes((0, 200, 0)))
        track = folder_track(tmp_path / "gone.mp3", artwork_sha256=kept)
        call_command("fetch_artwork", "--track", str(track.pk))
        track.refresh_from_db()
        assert track.artwork_sha256 == kept

    def test_it_fetches_the_artwork_of_itunes_previews(self, settings):
        apple = FakeApple()
        try:
            settings.ITUNES_BASE_URL = apple.base
            apple.files["/art/7.jpg"] = (picture_bytes((40, 180, 60)), "image/jpeg")
            track = Track.objects.create(
                title="Preview", source="itunes", source_key="7", artwork_url=f"{apple.base}/art/7.jpg"
            )
            call_command("fetch_artwork")
        finally:
            apple.close()
        track.refresh_from_db()
        assert apple.requests == ["/art/7.jpg"] and stored_thumbnail(track, "small")
