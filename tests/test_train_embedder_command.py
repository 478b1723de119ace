"""`train_embedder` on synthetic audio through the real musicnn front end, then `embed --model wavelength-1`."""

import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from embedding.models import EmbeddingModel, TrackEmbedding
from embedding.musicnn import SEGMENT_DIM
from tests.audio_samples import music, write_clip
from tracks.models import Track

TINY = json.dumps({"d_model": 32, "n_layer": 1, "n_head": 2, "out_dim": 16, "batch_tracks": 8, "context_segments": 2})


@pytest.fixture
def library(tmp_path, settings, transactional_db):
    """Six clips of 4 to 16.5 s, ingested and embedded with musicnn, so they are ready.

    Their lengths differ by more than dedup's tolerance, so none is taken for a copy of another.
    """
    settings.DATA_DIR = tmp_path / "data"
    music_dir = tmp_path / "music"
    music_dir.mkdir()
    for i in range(6):
        write_clip(
            music_dir / f"t{i}.flac",
            seconds=4.0 + 2.5 * i,
            codec="flac",
            signal=lambda s, r, i=i: music(s, r, bpm=70 + 15 * i, seed=i),
        )
    call_command("ingest_folder", str(music_dir), "--no-embed")
    call_command("embed", "--sync", "--device", "cpu")
    return settings.DATA_DIR


def train(*extra):
    call_command("train_embedder", "--epochs", "3", "--device", "cpu", "--config", TINY, *extra)


# Committed as the commands are in real use: a second model's vector index cannot be created inside the
# transaction that stored the first model's vectors (their checks are deferred to the commit).
@pytest.mark.django_db(transaction=True)
class TestTrainEmbedder:
    def test_it_trains_a_checkpoint_that_embed_then_uses(self, library, capsys):
        train()
        out = capsys.readouterr().out
        assert "wavelength-1 finished after 3 of 3 epoch(s) on 6 track(s)" in out
        assert (library / "models" / "wavelength-1.pt").is_file()
        call_command("embed", "--model", "wavelength-1", "--sync", "--device", "cpu")
        vectors = [np.asarray(e.vector) for e in TrackEmbedding.objects.filter(model__name="wavelength-1")]
        assert len(vectors) == 6
        assert all(v.shape == (16,) and np.linalg.norm(v) == pytest.approx(1.0, abs=1e-4) for v in vectors)

    def test_the_trained_model_does_not_become_the_default(self, library):
        train()
        call_command("embed", "--model", "wavelength-1", "--sync", "--device", "cpu")
        assert EmbeddingModel.default().name == "musicnn"
        assert EmbeddingModel.objects.get(name="wavelength-1").settings["trained_on_tracks"] == 6

    def test_musicnn_keeps_the_segment_features_that_training_and_embedding_then_reuse(self, library):
        cached = sorted((library / "segments").rglob("*.npy"))
        assert len(cached) == 6 and all(np.load(path).shape[1] == SEGMENT_DIM for path in cached)
        # Each begins with the penultimate layer, whose mean over the patches is musicnn's own vector.
        stored = np.stack([np.asarray(e.vector) for e in TrackEmbedding.objects.filter(model__name="musicnn")])
        means = np.stack([np.load(path)[:, :200].mean(axis=0) for path in cached])
        cosines = (means / np.linalg.norm(means, axis=1, keepdims=True)) @ stored.T
        assert np.all(cosines.max(axis=1) > 0.99999) and len(set(cosines.argmax(axis=1))) == 6
        stamps = [p.stat().st_mtime_ns for p in cached]
        train()
        call_command("embed", "--model", "wavelength-1", "--sync", "--device", "cpu")
        assert [p.stat().st_mtime_ns for p in sorted((library / "segments").rglob("*.npy"))] == stamps

    def test_a_model_that_reads_the_penultimate_layer_alone_trains_and_embeds(self, library):
        # As models trained before the channel means were kept do: they read the features' first 200.
        config = json.dumps({**json.loads(TINY), "feature_dim": 200})
        call_command("train_embedder", "--epochs", "2", "--device", "cpu", "--config", config)
        call_command("embed", "--model", "wavelength-1", "--sync", "--device", "cpu")
        settings = EmbeddingModel.objects.get(name="wavelength-1").settings
        assert settings["config"]["feature_dim"] == 200
        assert settings["features"].startswith("musicnn penultimate (200-d) per")
        assert TrackEmbedding.objects.filter(model__name="wavelength-1").count() == 6

    def test_a_name_trains_another_model_beside_the_first(self, library):
        train("--name", "wavelength-small", "--seed", "2")
        call_command("embed", "--model", "wavelength-small", "--sync", "--device", "cpu")
        assert TrackEmbedding.objects.filter(model__name="wavelength-small").count() == 6

    def test_a_missing_checkpoint_says_how_to_train_it(self, library):
        with pytest.raises(CommandError, match="has not been trained here.*train_embedder --name wavelength-1"):
            call_command("embed", "--model", "wavelength-1", "--sync", "--device", "cpu")
        assert not TrackEmbedding.objects.filter(model__name="wavelength-1").exists()

    def test_a_broken_checkpoint_says_so_and_nothing_falls_back(self, library):
        (library / "models").mkdir(parents=True)
        (library / "models" / "wavelength-1.pt").write_bytes(b"half a file")
        with pytest.raises(CommandError, match="The wavelength-1 model cannot be used.*cannot be read"):
            call_command("embed", "--model", "wavelength-1", "--sync", "--device", "cpu")
        assert not TrackEmbedding.objects.filter(model__name="wavelength-1").exists()

    def test_too_few_ready_tracks_is_a_sentence(self, library):
        Track.objects.exclude(pk=Track.objects.first().pk).update(status=Track.Status.FAILED, error="unreadable")
        with pytest.raises(CommandError, match="at least two ready tracks; the library has 1"):
            train()

    def test_bad_options_are_refused(self, library):
        with pytest.raises(CommandError, match="not a name for a trained model"):
            call_command("train_embedder", "--name", "musicnn")
        with pytest.raises(CommandError, match="must be more than 0"):
            call_command("train_embedder", "--max-minutes", "0")
        with pytest.raises(CommandError, match="Unknown wavelength config field"):
            call_command("train_embedder", "--config", '{"layers": 2}')
