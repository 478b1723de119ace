"""`ingest_folder` with the embedding queue: what it queues, what a second run leaves alone, what reasons say.

Real files, real decoding, real PostgreSQL. Tasks run in-process (test settings), and the command queues once
the ingest is committed, so each test runs its callbacks with `django_capture_on_commit_callbacks`; the
spectral model (no weights) keeps the embedding cheap.
"""

import os
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from embedding.models import EmbeddingModel
from tests.audio_oddities import write_flac_promising, write_flac_with_comments
from tests.audio_samples import music, silence, tone, write_clip, write_empty
from tracks.models import Track

TAGS = {"title": "Night Drive", "artist": "The Testers", "album": "Synthetic"}


@pytest.fixture
def spectral_model(db):
    from embedding.spectral import DIM

    return EmbeddingModel.objects.create(name="spectral", dim=DIM, is_default=True)


@pytest.fixture
def library(tmp_path) -> Path:
    """Three playable clips, one file that fails on reading (empty) and one that fails on embedding (silent)."""
    root = tmp_path / "Music"
    (root / "Album").mkdir(parents=True)
    write_clip(root / "Album" / "01 night drive.flac", seconds=1.5, codec="flac", tags=TAGS)
    write_clip(root / "Album" / "02 second.mp3", seconds=1.5, codec="mp3", signal=lambda s, r: tone(s, r, 330))
    write_clip(root / "loose.ogg", seconds=1.5, codec="vorbis", signal=lambda s, r: music(s, r, bpm=90))
    write_empty(root / "Album" / "03 broken.mp3")
    write_clip(root / "Album" / "04 silent.wav", seconds=2.0, signal=silence)
    return root


@pytest.fixture
def run(django_capture_on_commit_callbacks, capsys):
    """Run the command as an operator would (queueing after commit); returns (stdout, stderr)."""

    def run(path, *args):
        capsys.readouterr()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("ingest_folder", str(path), *args)
        output = capsys.readouterr()
        return output.out, output.err

    return run


def tracks() -> dict[str, Track]:
    return {Path(t.source_key).name: t for t in Track.objects.all()}


def rows() -> dict[int, dict]:
    """Every track row, every field (`updated` too), as stored."""
    return {row["id"]: row for row in Track.objects.order_by("pk").values()}


@pytest.mark.django_db
class TestQueueing:
    def test_what_it_added_is_queued_and_embedded_by_the_worker(self, library, spectral_model, run):
        out, _ = run(library)

        # Four files open fine (the silent one fails only when it is decoded); all four are queued.
        assert "4 added, 0 updated, 0 unchanged, 1 failed" in out
        assert "Queued 4 track(s) for embedding in 1 batch(es)" in out
        statuses = {name: t.status for name, t in tracks().items()}
        assert statuses == {
            "01 night drive.flac": "ready", "02 second.mp3": "ready", "loose.ogg": "ready",
            "03 broken.mp3": "failed", "04 silent.wav": "failed",
        }
        assert all(t.embeddings.filter(model=spectral_model).exists() for t in Track.objects.filter(status="ready"))

    def test_no_embed_only_reads_the_files(self, library, spectral_model, run):
        out, _ = run(library, "--no-embed")

        assert "Queued" not in out and "Next: `python manage.py embed`" in out
        assert set(Track.objects.values_list("status", flat=True)) == {"pending", "failed"}
        assert not Track.objects.filter(embeddings__isnull=False).exists()

    def test_only_what_changed_is_queued_again(self, library, spectral_model, run):
        run(library)
        write_clip(library / "loose.ogg", seconds=2.5, codec="vorbis", signal=lambda s, r: music(s, r, seed=5))

        out, _ = run(library)

        assert "0 added, 1 updated, 2 unchanged, 2 failed" in out and "Queued 1 track(s)" in out
        assert tracks()["loose.ogg"].status == "ready"


@pytest.mark.django_db
class TestASecondRun:
    def test_an_unchanged_folder_changes_no_row_not_even_of_failed_tracks(self, library, spectral_model, run):
        run(library)
        failed = {name: t.error for name, t in tracks().items() if t.status == "failed"}
        assert failed.keys() == {"03 broken.mp3", "04 silent.wav"}  # failed on reading, and on embedding
        before = rows()

        out, err = run(library)

        assert "0 added, 0 updated, 3 unchanged, 2 failed" in out and "Queued" not in out
        assert rows() == before
        for reason in failed.values():  # each still listed, with the reason it had
            assert f"failed: {reason}" in err

    def test_a_second_copying_run_changes_no_row_either(self, library, spectral_model, run):
        run(library, "--copy")
        before = rows()

        out, _ = run(library, "--copy")

        assert "0 added, 0 updated, 3 unchanged, 2 failed" in out and rows() == before

    def test_a_failed_track_keeps_its_reason_until_its_file_changes(self, library, spectral_model, run):
        run(library)
        write_clip(library / "Album" / "03 broken.mp3", seconds=1.5, codec="mp3")  # mended
        write_clip(library / "Album" / "04 silent.wav", seconds=1.5, signal=lambda s, r: music(s, r, seed=2))

        out, _ = run(library)

        assert "0 added, 2 updated, 3 unchanged, 0 failed" in out and "Queued 2 track(s)" in out
        mended = tracks()
        assert [(mended[n].status, mended[n].error) for n in ("03 broken.mp3", "04 silent.wav")] == [
            ("ready", ""), ("ready", ""),
        ]

    def test_retrying_failed_tracks_reads_their_files_again_and_records_the_true_reason(
        self, library, spectral_model, run, staff_client
    ):
        run(library)
        failed = Track.objects.filter(status="failed")
        reasons = dict(failed.values_list("pk", "error"))
        assert reasons[tracks()["03 broken.mp3"].pk].startswith(f"“{library / 'Album' / '03 broken.mp3'}” is empty")
        assert reasons[tracks()["04 silent.wav"].pk].startswith(f"“{library / 'Album' / '04 silent.wav'}” is silent")

        response = staff_client.post(
            reverse("admin:tracks_track_changelist"), {"action": "retry_failed", "_selected_action": list(reasons)}
        )

        assert response.status_code == 302
        assert dict(Track.objects.filter(pk__in=reasons).values_list("pk", "error")) == reasons
        assert set(Track.objects.filter(pk__in=reasons).values_list("status", flat=True)) == {"failed"}

    def test_a_retried_file_that_was_mended_meanwhile_is_embedded(self, library, spectral_model, run, staff_client):
        run(library)
        broken = tracks()["03 broken.mp3"]
        write_clip(library / "Album" / "03 broken.mp3", seconds=1.5, codec="mp3")

        staff_client.post(
            reverse("admin:tracks_track_changelist"), {"action": "retry_failed", "_selected_action": [broken.pk]}
        )

        broken.refresh_from_db()
        assert (broken.status, broken.error) == ("ready", "")


@pytest.mark.django_db
class TestReasons:
    def test_a_header_promising_433_hours_over_20_seconds_is_embedded_from_the_20_seconds(
        self, tmp_path, spectral_model, run
    ):
        write_flac_promising(tmp_path / "unfinished.flac", seconds=20.0, signal=lambda s, r: music(s, r, seed=3))

        run(tmp_path)

        track = Track.objects.get()
        assert track.duration_s == pytest.approx(20.0, abs=0.05)
        assert track.status == "ready" and track.error == (
            "The file is cut short: its header promises 433 h but it holds 20 s of audio; that audio was used."
        )

    def test_a_one_millisecond_file_is_too_short_by_its_real_length(self, tmp_path, spectral_model, run):
        write_clip(tmp_path / "blip.wav", seconds=44 / 44100)

        run(tmp_path)

        assert Track.objects.get().error == (
            f"“{tmp_path / 'blip.wav'}” is too short to analyse: only 1 ms of audio, and at least 1 s is needed."
        )

    def test_floats_near_1e30_are_scaled_down_and_the_track_says_so(self, tmp_path, spectral_model, run):
        signal = music(2.0, 44100) * np.float32(1e30)
        write_clip(tmp_path / "hot.wav", seconds=2.0, codec="wav_float", signal=signal)

        run(tmp_path)

        track = Track.objects.get()
        assert track.status == "ready" and track.error.startswith("The decoded samples go up to ")
        assert "times full scale (the file is mis-scaled), so the audio was scaled down by 59" in track.error

    def test_every_reason_names_the_file_by_its_path_in_the_folder(self, library, spectral_model, run):
        _, err = run(library)

        broken = library / "Album" / "03 broken.mp3"
        assert f"failed: “{broken}” is empty (0 bytes)" in err
        for track in Track.objects.filter(status="failed"):
            assert track.error.startswith(f"“{track.source_key}”")

    def test_multi_valued_tags_keep_every_value_and_search_finds_each(self, tmp_path, spectral_model, run):
        write_flac_with_comments(
            tmp_path / "duet.flac", ["TITLE=Alpha", "TITLE=Beta", "ARTIST=Ann", "ARTIST=Bob"], seconds=1.5
        )

        run(tmp_path)

        track = Track.objects.get()
        assert (track.title, track.artist) == ("Alpha; Beta", "Ann; Bob")
        for word in ("alpha", "beta", "ann", "bob", "beta bob"):
            assert list(Track.objects.matching(word)) == [track], word


@pytest.mark.django_db
class TestLinks:
    def test_links_are_followed_and_those_that_cannot_be_are_listed_with_why(self, tmp_path, run):
        root, elsewhere = tmp_path / "Music", tmp_path / "Elsewhere"
        (root / "Album").mkdir(parents=True)
        elsewhere.mkdir()
        write_clip(root / "Album" / "song.flac", seconds=1.5, codec="flac")
        write_clip(elsewhere / "linked in.ogg", seconds=1.5, codec="vorbis")
        os.symlink(elsewhere, root / "Elsewhere")  # music on another disk: followed
        os.symlink(elsewhere, elsewhere / "back")  # ... which links back to itself: a loop
        os.symlink(root, root / "Album" / "up")  # back to the top: a loop
        os.symlink(root / "Album", root / "Shortcut")  # read anyway
        os.symlink(root / "missing.flac", root / "gone.flac")  # dangling
        os.symlink("self.mp3", root / "self.mp3")  # a link to itself

        out, err = run(root, "--no-embed")

        assert set(tracks()) == {"song.flac", "linked in.ogg"}
        assert Track.objects.get(title="linked in").source_key == str(root / "Elsewhere" / "linked in.ogg")
        assert "2 added" in out and "5 link(s) skipped" in out
        skipped = {line.split(": ", 2)[1]: line.split(": ", 2)[2] for line in err.splitlines()
                   if line.startswith("skipped link: ")}
        assert skipped == {
            str(root / "Album" / "up"): f"it is a symlink loop: it leads back to {root}, which holds it",
            str(root / "Elsewhere" / "back"): (
                f"it is a symlink loop: it leads back to {root / 'Elsewhere'}, which holds it"
            ),
            str(root / "Shortcut"): f"it leads to {root / 'Album'}, which is read anyway as part of {root}",
            str(root / "gone.flac"): (
                f"it is a dangling link: it points to {root / 'missing.flac'}, which does not exist"
            ),
            str(root / "self.mp3"): "it is a symlink loop: self.mp3 leads back to itself",
        }
