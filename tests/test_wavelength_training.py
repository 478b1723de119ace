"""Training on tiny synthetic features: the loss falls, runs repeat per seed, resume, budgets, checkpoints."""

import numpy as np
import pytest
import torch

from embedding.wavelength_network import Wavelength, WavelengthConfig
from embedding.wavelength_training import (
    CheckpointError,
    build_model,
    excerpt_bounds,
    read_checkpoint,
    train,
)

CONFIG = WavelengthConfig(
    feature_dim=12,
    context_segments=4,
    d_model=16,
    n_layer=1,
    n_head=2,
    out_dim=8,
    dropout=0.0,
    batch_tracks=8,
    epochs=6,
    learning_rate=3e-3,
)


def tracks(count=16, seed=0):
    """Each track is its own centre plus noise per segment, so its two excerpts have something in common."""
    rng = np.random.default_rng(seed)
    return [
        (rng.normal(size=12) + 0.5 * rng.normal(size=(int(rng.integers(6, 14)), 12))).astype(np.float32)
        for _ in range(count)
    ]


def test_excerpts_are_disjoint_and_as_long_as_the_context_allows():
    rng = np.random.default_rng(0)
    for n in [2, 3, 7, 8, 30]:
        (a0, a1), (b0, b1) = excerpt_bounds(n, 4, rng)
        assert a1 - a0 == b1 - b0 == min(4, n // 2)
        assert a1 <= b0 or b1 <= a0
        assert 0 <= min(a0, b0) and max(a1, b1) <= n


def test_training_lowers_the_loss_and_keeps_the_best_epoch(tmp_path):
    summary = train(tracks(), CONFIG, tmp_path / "m.pt", seed=0)
    losses = [row["validation"]["total"] for row in summary["history"]]
    assert summary["stopped"] == "finished" and summary["epochs_done"] == 6
    assert losses[-1] < losses[0]
    assert summary["best_validation_loss"] == pytest.approx(min(losses), abs=1e-4)
    assert summary["best_epoch"] == losses.index(min(losses)) + 1


def test_the_checkpoint_rebuilds_itself_and_yields_unit_vectors(tmp_path):
    summary = train(tracks(), CONFIG, tmp_path / "m.pt", seed=0, about={"features": "synthetic"})
    checkpoint = read_checkpoint(tmp_path / "m.pt")
    assert checkpoint["config"] == CONFIG.to_dict() and checkpoint["summary"] == summary
    assert checkpoint["summary"]["about"] == {"features": "synthetic"} and checkpoint["resume"] is None
    model = build_model(checkpoint)
    vector = model.embed_track(torch.from_numpy(tracks()[0]))
    assert float(vector.norm()) == pytest.approx(1.0, abs=1e-5)


def test_the_same_seed_gives_the_same_weights_and_another_seed_does_not(tmp_path):
    train(tracks(), CONFIG, tmp_path / "a.pt", seed=3)
    train(tracks(), CONFIG, tmp_path / "b.pt", seed=3)
    train(tracks(), CONFIG, tmp_path / "c.pt", seed=4)
    a, b, c = (read_checkpoint(tmp_path / f"{n}.pt")["model"] for n in "abc")
    assert all(torch.equal(a[key], b[key]) for key in a)
    assert not all(torch.equal(a[key], c[key]) for key in a)


def test_a_run_stopped_and_resumed_ends_where_a_straight_run_does(tmp_path):
    train(tracks(), CONFIG, tmp_path / "straight.pt", seed=1)
    halfway = WavelengthConfig(**{**CONFIG.to_dict()})
    path = tmp_path / "resumed.pt"
    stopped = {}

    def stop_after_three(epoch, epochs, row):
        if epoch == 3:
            stopped["at"] = epoch
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(tracks(), halfway, path, seed=1, on_epoch=stop_after_three)
    assert read_checkpoint(path)["resume"]["epoch"] == 3
    summary = train(tracks(), halfway, path, seed=1)
    assert summary["epochs_done"] == 6 and len(summary["history"]) == 6
    straight, resumed = read_checkpoint(tmp_path / "straight.pt")["model"], read_checkpoint(path)["model"]
    assert all(torch.allclose(straight[key], resumed[key], atol=1e-6) for key in straight)


def test_neighbour_positives_are_trained_and_recorded(tmp_path):
    config = WavelengthConfig(**{**CONFIG.to_dict(), "w_neighbour": 1.0, "neighbour_k": 2, "epochs": 2})
    summary = train(tracks(), config, tmp_path / "m.pt", seed=0)
    assert all(row["train"]["neighbour"] > 0 for row in summary["history"])
    train(tracks(), config, tmp_path / "again.pt", seed=0)
    a, b = (read_checkpoint(tmp_path / name)["model"] for name in ("m.pt", "again.pt"))
    assert all(torch.equal(a[key], b[key]) for key in a)


def test_a_format_1_checkpoint_still_rebuilds_as_the_model_it_was(tmp_path):
    """Before the whitened base: no whitening buffer, mean pooling, and a config without those fields."""
    before = {"whitened_base": False, "pooling": "mean", "base_whitening": "library"}
    old = WavelengthConfig(**{**CONFIG.to_dict(), **before})
    torch.manual_seed(0)
    model = Wavelength(old)
    added = ("whitened_base", "pooling", "whiten_shrinkage", "base_whitening")
    config = {k: v for k, v in old.to_dict().items() if k not in added}
    config = {k: v for k, v in config.items() if k not in ("feature_noise", "w_neighbour", "neighbour_k")}
    torch.save({"format": "wavelength-checkpoint-1", "config": config, "model": model.state_dict()}, tmp_path / "1.pt")
    rebuilt = build_model(read_checkpoint(tmp_path / "1.pt"))
    assert rebuilt.config == old
    track = torch.from_numpy(tracks()[0])
    assert torch.allclose(rebuilt.embed_track(track), model.eval().embed_track(track), atol=1e-6)


def test_a_format_2_checkpoint_still_rebuilds_with_the_library_whitening_it_was_fitted_with(tmp_path):
    """Before the within-track whitening: a config without base_whitening, a base fitted on all segments."""
    old = WavelengthConfig(**{**CONFIG.to_dict(), "base_whitening": "library"})
    torch.manual_seed(0)
    model = Wavelength(old)
    model.fit_feature_scale(torch.from_numpy(np.concatenate(tracks())))
    config = {k: v for k, v in old.to_dict().items() if k != "base_whitening"}
    torch.save({"format": "wavelength-checkpoint-2", "config": config, "model": model.state_dict()}, tmp_path / "2.pt")
    rebuilt = build_model(read_checkpoint(tmp_path / "2.pt"))
    assert rebuilt.config == old
    track = torch.from_numpy(tracks()[0])
    assert torch.allclose(rebuilt.embed_track(track), model.eval().embed_track(track), atol=1e-6)


def test_a_time_budget_stops_cleanly_with_a_usable_checkpoint(tmp_path):
    long = WavelengthConfig(**{**CONFIG.to_dict(), "epochs": 10_000})
    summary = train(tracks(), long, tmp_path / "m.pt", seed=0, max_minutes=0.02)
    assert summary["stopped"] == "time budget" and 1 <= summary["epochs_done"] < 10_000
    checkpoint = read_checkpoint(tmp_path / "m.pt")
    assert checkpoint["resume"]["epoch"] == summary["epochs_done"]
    build_model(checkpoint)


def test_a_missing_or_broken_checkpoint_says_so(tmp_path):
    with pytest.raises(CheckpointError, match="There is no checkpoint"):
        read_checkpoint(tmp_path / "none.pt")
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot be read"):
        read_checkpoint(tmp_path / "broken.pt")
    torch.save({"format": "something else"}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="is not a wavelength-checkpoint-3 file"):
        read_checkpoint(tmp_path / "other.pt")


def test_too_few_tracks_or_wrong_features_are_refused(tmp_path):
    with pytest.raises(ValueError, match="at least two tracks"):
        train(tracks(1), CONFIG, tmp_path / "m.pt")
    with pytest.raises(ValueError, match="feature array"):
        train([np.zeros((3, 5), np.float32)] * 2, CONFIG, tmp_path / "m.pt")
