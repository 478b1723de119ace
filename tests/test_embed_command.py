"""`embed` with the real musicnn model on real decoded audio: synchronous, queued, resumable, idempotent."""

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from embedding.models import EmbeddingModel, TrackEmbedding
from tests.audio_samples import music, silence, write_clip, write_empty, write_garbage
from tracks.models import Track


@pytest.fixture
def library(tmp_path, db):
    """Three playable clips, two files broken beyond reading and one silent file, ingested."""
    write_clip(tmp_path / "a.flac", seconds=4.0, codec="flac", signal=lambda s, r: music(s, r, bpm=96, seed=1))
    write_clip(tmp_path / "b.mp3", seconds=3.5, codec="mp3", signal=lambda s, r: music(s, r, bpm=128, seed=2))
    write_clip(tmp_path / "c.ogg", seconds=1.5, codec="vorbis", signal=lambda s, r: music(s, r, bpm=70, seed=3))
    write_garbage(tmp_path / "d.wav")
    write_empty(tmp_path / "e.ogg")
    write_clip(tmp_path / "f.wav", seconds=2.0, signal=silence)  # opens fine; only decoding finds it silent
    call_command("ingest_folder", str(tmp_path))
    return {t.title: t for t in Track.objects.all()}


def stored_vectors(model_name="musicnn"):
    return {
        e.track.title: np.asarray(e.vector)
        for e in TrackEmbedding.objects.filter(model__name=model_name).select_related("track")
    }


@pytest.mark.django_db
class TestEmbedCommand:
    def test_sync_embeds_every_playable_track_and_marks_broken_ones(self, library, capsys):
        call_command("embed", "--sync", "--batch-size", "2", "--device", "cpu")
        vectors = stored_vectors()
        assert set(vectors) == {"a", "b", "c"}
        for vector in vectors.values():
            assert vector.shape == (200,) and np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-4)
        statuses = dict(Track.objects.values_list("title", "status"))
        assert statuses == {"a": "ready", "b": "ready", "c": "ready", "d": "failed", "e": "failed", "f": "failed"}
        assert "3 track(s) embedded with musicnn, 1 failed." in capsys.readouterr().out

    def test_it_stores_the_models_tags_and_registers_the_model(self, library):
        call_command("embed", "--sync", "--device", "cpu")
        model = EmbeddingModel.objects.get(name="musicnn")
        assert model.dim == 200 and model.is_default and len(model.weights_sha256) == 64
        tags = TrackEmbedding.objects.filter(model=model).first().tags
        assert len(tags) == 50 and {"rock", "electronic", "jazz"} <= set(tags)
        assert all(0.0 <= p <= 1.0 for p in tags.values())

    def test_running_again_finds_nothing_to_do_and_adds_no_rows(self, library, capsys):
        call_command("embed", "--sync", "--device", "cpu")
        before = stored_vectors()
        capsys.readouterr()
        call_command("embed", "--sync", "--device", "cpu")
        assert "Nothing to embed with musicnn." in capsys.readouterr().out
        assert TrackEmbedding.objects.count() == 3
        assert all(np.array_equal(before[t], v) for t, v in stored_vectors().items())

    def test_an_interrupted_run_is_finished_by_the_next(self, library):
        # As if killed after the first batch: one track embedded, the rest still pending.
        call_command("embed", "--sync", "--device", "cpu", "--track", str(library["a"].pk))
        assert set(stored_vectors()) == {"a"}
        call_command("embed", "--sync", "--device", "cpu")
        assert set(stored_vectors()) == {"a", "b", "c"} and TrackEmbedding.objects.count() == 3

    def test_track_ids_re_embed_in_place(self, library):
        call_command("embed", "--sync", "--device", "cpu")
        first = stored_vectors()["b"]
        call_command("embed", "--sync", "--device", "cpu", "--track", str(library["b"].pk))
        assert TrackEmbedding.objects.count() == 3
        np.testing.assert_allclose(stored_vectors()["b"], first, atol=1e-5)  # deterministic

    def test_queued_batches_run_in_the_worker(self, library, capsys):
        # Tests run django-q2 synchronously, so the queued tasks run inside this call.
        call_command("embed", "--batch-size", "2", "--device", "cpu")
        # The two files that failed at ingest are not queued again unless asked for (--all, --track, admin).
        assert "Queued 4 track(s) for musicnn in 2 batch(es)" in capsys.readouterr().out
        assert set(stored_vectors()) == {"a", "b", "c"}
        assert Track.objects.filter(status="failed").count() == 3

    def test_the_spectral_baseline_is_chosen_explicitly(self, library):
        call_command("embed", "--sync", "--model", "spectral")
        assert set(stored_vectors("spectral")) == {"a", "b", "c"}
        assert not TrackEmbedding.objects.filter(model__name="musicnn").exists()

    def test_unknown_track_ids_are_refused(self, library):
        with pytest.raises(CommandError, match="No track with id 999999"):
            call_command("embed", "--sync", "--track", "999999")

    def test_failed_tracks_say_why(self, library):
        call_command("embed", "--sync", "--device", "cpu")
        reasons = dict(Track.objects.filter(status="failed").values_list("title", "error"))
        assert "empty" in reasons["e"].lower() and "silent" in reasons["f"].lower()
        assert reasons["d"]  # random bytes: a readable reason, whichever the decoder gives


def test_a_device_name_no_model_understands_is_refused_before_anything_runs():
    with pytest.raises(CommandError, match=r'argument --device: The device must be "auto", "cpu", "cuda" or "cuda:N"'):
        call_command("embed", "--sync", "--device", "gpu")


@pytest.mark.django_db
def test_a_batch_delivered_twice_stores_one_vector_per_track(library):
    """The queue may run a batch again (its worker died after storing it): the second run replaces, never adds."""
    from embedding.tasks import embed_tracks

    ids = list(Track.objects.order_by("pk").values_list("pk", flat=True))
    first = embed_tracks(ids, "spectral", "cpu")
    before = stored_vectors("spectral")
    second = embed_tracks(ids, "spectral", "cpu")
    assert first == second == {"model": "spectral", "ready": 3, "failed": 3}
    assert TrackEmbedding.objects.filter(model__name="spectral").count() == 3
    assert all(np.allclose(before[t], v) for t, v in stored_vectors("spectral").items())
