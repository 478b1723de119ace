"""`manage.py cleanup_media` removes artwork thumbnails no track shows (tracks/artwork.py)."""

import os
import time

import pytest
from django.core.management import call_command

from tests.artwork_samples import picture_bytes
from tracks.artwork import store_picture, thumbnail_path
from tracks.models import Track


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.mark.django_db
class TestCleanupMediaKnowsArtwork:
    def test_it_removes_thumbnails_no_track_shows_and_keeps_the_rest(self, media, capsys):
        used = store_picture(picture_bytes((200, 40, 40)))
        unused = store_picture(picture_bytes((30, 60, 210)))
        Track.objects.create(title="a", source="folder", source_key="/m/a.flac", artwork_sha256=used)
        old = time.time() - 2 * 3600
        for sha256 in (used, unused):
            for size in ("small", "large"):
                os.utime(thumbnail_path(sha256, size), (old, old))
        call_command("cleanup_media", "--dry-run")
        assert f"would remove: artwork/{unused[:2]}/{unused}-96.jpg" in capsys.readouterr().out
        assert thumbnail_path(unused, "small").exists()
        call_command("cleanup_media")
        assert "Removed 2 file(s)" in capsys.readouterr().out
        assert not thumbnail_path(unused, "small").exists() and not thumbnail_path(unused, "large").exists()
        assert thumbnail_path(used, "small").exists() and thumbnail_path(used, "large").exists()

    def test_young_thumbnails_are_left_for_an_ingest_that_has_not_committed(self, media, capsys):
        unused = store_picture(picture_bytes((30, 60, 210)))
        call_command("cleanup_media")
        assert thumbnail_path(unused, "small").exists() and "Removed 0 file(s)" in capsys.readouterr().out
