"""Stored audio goes with its track, and `cleanup_media` removes what no track uses (tracks/media.py)."""

import os
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from tracks.models import Track

AUDIO = b"\x00\x01" * 2500  # 5,000 bytes
OLD = time.time() - 2 * 3600


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


def stored_track(key: str, name: str = "upload/ab/abc.ogg", content: bytes = AUDIO) -> Track:
    track = Track(title=key, source="upload", source_key=key * 64)
    storage = track.audio_file.storage
    if not storage.exists(name):
        storage.save(name, ContentFile(content))
    track.audio_file.name = name
    track.save()
    return track


def stored_file(media: Path, name: str, content: bytes = AUDIO, mtime: float = OLD) -> Path:
    path = media / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, (mtime, mtime))
    return path


@pytest.mark.django_db
class TestDeletingATrackDeletesItsStoredAudio:
    def test_a_deleted_upload_takes_its_file_along(self, media, django_capture_on_commit_callbacks):
        track = stored_track("a")
        path = Path(track.audio_file.path)
        with django_capture_on_commit_callbacks(execute=True):
            track.delete()
        assert not path.exists()

    def test_a_file_shared_by_two_tracks_goes_with_the_last_of_them(self, media, django_capture_on_commit_callbacks):
        first, second = stored_track("a"), stored_track("b")
        path = Path(first.audio_file.path)
        with django_capture_on_commit_callbacks(execute=True):
            first.delete()
        assert path.exists()
        with django_capture_on_commit_callbacks(execute=True):
            second.delete()
        assert not path.exists()

    def test_a_queryset_delete_removes_every_file(self, media, django_capture_on_commit_callbacks):
        tracks = [stored_track("a", "upload/aa/a.ogg"), stored_track("b", "upload/bb/b.ogg")]
        paths = [Path(t.audio_file.path) for t in tracks]
        with django_capture_on_commit_callbacks(execute=True):
            Track.objects.filter(pk__in=[t.pk for t in tracks]).delete()
        assert not any(p.exists() for p in paths)

    def test_a_rolled_back_delete_keeps_the_file(self, media, django_capture_on_commit_callbacks):
        track = stored_track("a")
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            with pytest.raises(RuntimeError), transaction.atomic():
                track.delete()
                raise RuntimeError("changed my mind")
        assert callbacks == [] and Path(track.audio_file.path).exists()

    def test_the_operators_own_files_are_never_deleted(self, media, tmp_path, django_capture_on_commit_callbacks):
        song = tmp_path / "Music" / "song.ogg"
        song.parent.mkdir()
        song.write_bytes(AUDIO)
        track = Track.objects.create(title="Mine", source="folder", source_key=str(song), audio_path=str(song))
        with django_capture_on_commit_callbacks(execute=True):
            track.delete()
        assert song.read_bytes() == AUDIO

    def test_a_library_root_inside_media_root_is_left_alone(self, media, settings, django_capture_on_commit_callbacks):
        settings.MUSIC_DIRS = [media / "upload"]
        track = stored_track("a")
        with django_capture_on_commit_callbacks(execute=True):
            track.delete()
        assert Path(track.audio_file.path).exists()

    def test_deleting_in_the_admin_removes_the_file(self, media, staff_client, django_capture_on_commit_callbacks):
        one, two = stored_track("a", "upload/aa/a.ogg"), stored_track("b", "upload/bb/b.ogg")
        with django_capture_on_commit_callbacks(execute=True):
            response = staff_client.post(reverse("admin:tracks_track_delete", args=[one.pk]), {"post": "yes"})
        assert response.status_code == 302 and not Path(one.audio_file.path).exists()
        with django_capture_on_commit_callbacks(execute=True):
            staff_client.post(
                reverse("admin:tracks_track_changelist"),
                {"action": "delete_selected", "_selected_action": [two.pk], "post": "yes"},
            )
        assert not Track.objects.exists() and not Path(two.audio_file.path).exists()


@pytest.mark.django_db
class TestCleanupMedia:
    @pytest.fixture
    def layout(self, media, tmp_path, settings):
        kept = stored_track("a", "upload/aa/kept.ogg")
        os.utime(kept.audio_file.path, (OLD, OLD))
        outside = tmp_path / "outside.ogg"
        outside.write_bytes(AUDIO)
        (media / "upload" / "link.ogg").symlink_to(outside)
        return {
            "kept": Path(kept.audio_file.path),
            "orphan": stored_file(media, "upload/bb/orphan.ogg"),
            "orphan_itunes": stored_file(media, "itunes/cc/orphan.m4a", content=AUDIO * 2),
            "young": stored_file(media, "folder/dd/young.flac", mtime=time.time()),
            "hidden": stored_file(media, "upload/.partial"),
            "not_audio_folder": stored_file(media, "backups/old.dump"),
            "top_level": stored_file(media, "notes.txt"),
            "outside": outside,
            "link": media / "upload" / "link.ogg",
        }

    def test_a_dry_run_lists_what_it_would_remove_and_removes_nothing(self, layout, capsys):
        call_command("cleanup_media", "--dry-run")
        out = capsys.readouterr().out
        assert "would remove: upload/bb/orphan.ogg (5.0 KB)" in out
        assert "would remove: itunes/cc/orphan.m4a (10.0 KB)" in out
        assert "Would remove 2 file(s), freeing 15.0 KB" in out
        assert all(path.exists() for path in layout.values())

    def test_it_removes_only_unreferenced_audio_inside_media_root(self, layout, capsys):
        call_command("cleanup_media")
        assert "Removed 2 file(s) no track uses, freeing 15.0 KB" in capsys.readouterr().out
        gone = {"orphan", "orphan_itunes"}
        assert {name for name, path in layout.items() if not os.path.lexists(path)} == gone
        assert layout["outside"].read_bytes() == AUDIO and layout["link"].is_symlink()
        assert not (layout["orphan"].parent).exists()  # its emptied folder went too
        assert (layout["orphan"].parent.parent).is_dir()  # the audio folder itself stays

    def test_young_files_are_left_unless_asked(self, layout, capsys):
        call_command("cleanup_media", "--min-age", "0")
        assert "Removed 3 file(s)" in capsys.readouterr().out
        assert not layout["young"].exists() and layout["kept"].exists()

    def test_a_symlinked_audio_folder_is_never_entered(self, media, tmp_path, capsys):
        elsewhere = tmp_path / "elsewhere"
        stored_file(elsewhere, "aa/victim.ogg")
        (media / "itunes").symlink_to(elsewhere)
        call_command("cleanup_media")
        assert "Removed 0 file(s)" in capsys.readouterr().out
        assert (elsewhere / "aa" / "victim.ogg").exists()

    def test_an_empty_media_root_is_fine(self, media, capsys):
        call_command("cleanup_media")
        assert "Removed 0 file(s) no track uses, freeing 0 bytes" in capsys.readouterr().out


@pytest.mark.django_db
def test_an_upload_that_fails_leaves_nothing_in_media_root(media, staff_client, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.audio_samples import write_text

    broken = write_text(tmp_path / "notes.mp3").read_bytes()
    staff_client.post(reverse("admin:tracks_track_upload"), {"files": [SimpleUploadedFile("notes.mp3", broken)]})
    assert Track.objects.get().status == Track.Status.FAILED
    assert [p for p in media.rglob("*") if p.is_file()] == []
