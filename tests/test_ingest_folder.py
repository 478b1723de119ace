import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.audio_samples import available_codecs, music, tone, write_clip, write_empty, write_png, write_text
from tracks.models import Track

TAGS = {"title": "Night Drive", "artist": "The Testers", "album": "Synthetic", "genre": "Electronic", "date": "2019"}


@pytest.fixture
def music_folder(tmp_path) -> Path:
    root = tmp_path / "Music"
    (root / "Album").mkdir(parents=True)
    write_clip(root / "Album" / "01 night drive.flac", seconds=1.5, codec="flac", tags=TAGS)
    write_clip(root / "Album" / "02 untagged.mp3", seconds=1.5, codec="mp3", signal=lambda s, r: tone(s, r, 330))
    write_clip(root / "loose.ogg", seconds=1.5, codec="vorbis", signal=lambda s, r: music(s, r, bpm=90))
    write_empty(root / "Album" / "03 broken.mp3")
    write_png(root / "Album" / "cover.png")
    write_text(root / "Album" / "notes.txt")
    write_text(root / "readme.bin")  # unknown extension and not audio: skipped quietly
    (root / ".hidden").mkdir()
    write_clip(root / ".hidden" / "secret.wav", seconds=1.5)
    return root


def ingest(path, *args):
    call_command("ingest_folder", str(path), *args)
    return {Path(t.source_key).name: t for t in Track.objects.all()}


def rows() -> dict[int, dict]:
    """Every track row, every field (`updated` too), as stored."""
    return {row["id"]: row for row in Track.objects.order_by("pk").values()}


@pytest.mark.django_db
class TestIngestFolder:
    def test_it_adds_every_audio_file_with_tags_duration_and_checksum(self, music_folder):
        tracks = ingest(music_folder)
        assert set(tracks) == {"01 night drive.flac", "02 untagged.mp3", "loose.ogg", "03 broken.mp3"}
        tagged = tracks["01 night drive.flac"]
        assert (tagged.title, tagged.artist, tagged.album, tagged.genre, tagged.year) == (
            "Night Drive", "The Testers", "Synthetic", "Electronic", 2019,
        )
        assert tagged.duration_s == pytest.approx(1.5, abs=0.05)
        assert len(tagged.content_sha256) == 64 and tagged.status == Track.Status.PENDING
        assert tagged.source == Track.Source.FOLDER
        assert tagged.audio_path == tagged.source_key == str(music_folder / "Album" / "01 night drive.flac")

    def test_a_file_without_tags_is_titled_after_its_name(self, music_folder):
        assert ingest(music_folder)["02 untagged.mp3"].title == "02 untagged"

    def test_a_broken_audio_file_is_recorded_failed_with_a_reason_and_the_rest_goes_on(self, music_folder, capsys):
        tracks = ingest(music_folder)
        broken = tracks["03 broken.mp3"]
        assert broken.status == Track.Status.FAILED and "empty" in broken.error.lower()
        assert "failed: " in capsys.readouterr().err
        assert sum(t.status == Track.Status.PENDING for t in tracks.values()) == 3

    def test_a_second_run_adds_nothing(self, music_folder, capsys):
        ingest(music_folder)
        before = rows()
        capsys.readouterr()
        ingest(music_folder)
        # The broken file has not changed, so it is not read again: it keeps its reason, and says it again.
        output = capsys.readouterr()
        assert "0 added, 0 updated, 3 unchanged, 1 failed" in output.out
        assert "03 broken.mp3” is empty" in output.err
        assert rows() == before and Track.objects.count() == 4

    def test_a_changed_file_is_updated_in_place(self, music_folder, capsys):
        before = ingest(music_folder)["loose.ogg"]
        write_clip(music_folder / "loose.ogg", seconds=2.5, codec="vorbis", tags={"title": "Loose, re-cut"})
        capsys.readouterr()
        after = ingest(music_folder)["loose.ogg"]
        assert after.pk == before.pk and after.title == "Loose, re-cut"
        assert after.content_sha256 != before.content_sha256
        assert after.duration_s == pytest.approx(2.5, abs=0.05)
        assert "1 updated" in capsys.readouterr().out

    def test_a_vanished_file_is_reported_and_kept(self, music_folder, capsys):
        ingest(music_folder)
        (music_folder / "loose.ogg").unlink()
        capsys.readouterr()
        ingest(music_folder)
        output = capsys.readouterr()
        assert f"vanished: {music_folder / 'loose.ogg'}" in output.err and "1 vanished" in output.out
        assert Track.objects.filter(source_key=str(music_folder / "loose.ogg")).exists()

    def test_copy_keeps_the_audio_in_media_storage(self, music_folder, settings):
        tracks = ingest(music_folder, "--copy")
        copied = tracks["loose.ogg"]
        assert copied.audio_path == "" and copied.audio_file.name.endswith(".ogg")
        assert Path(copied.audio_file.path).read_bytes() == (music_folder / "loose.ogg").read_bytes()

    def test_the_same_recording_in_two_places_is_an_exact_duplicate(self, music_folder):
        shutil.copy(music_folder / "loose.ogg", music_folder / "Album" / "loose copy.ogg")
        tracks = ingest(music_folder)
        original, copy = tracks["loose.ogg"], tracks["loose copy.ogg"]
        assert {original.duplicate_of_id, copy.duplicate_of_id} == {None, min(original.pk, copy.pk)}

    @pytest.mark.parametrize("codec", available_codecs())
    def test_every_codec_ffmpeg_reads_is_taken(self, tmp_path, codec):
        write_clip(tmp_path / f"clip.{codec}", seconds=1.5, codec=codec)
        call_command("ingest_folder", str(tmp_path))
        track = Track.objects.get()
        assert track.status == Track.Status.PENDING and track.duration_s == pytest.approx(1.5, abs=0.1)

    def test_a_path_that_is_not_a_folder_is_a_clear_error(self, tmp_path):
        from django.core.management import CommandError

        with pytest.raises(CommandError, match="is not a folder"):
            call_command("ingest_folder", str(tmp_path / "nowhere"))
