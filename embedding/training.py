"""Training a model of our own on the library: which tracks, their segment features, and the run's record.

Imports torch (through embedding.wavelength): only `manage.py train_embedder` and the worker use this module;
the web process queues a run through embedding.training_jobs.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from embedding.devices import resolve_device
from embedding.models import TrainingRun
from embedding.services import _decode_tracks
from embedding.wavelength import FEATURES, SegmentFeatures, checkpoint_path, features_read
from embedding.wavelength_network import WavelengthConfig, gpu_config
from embedding.wavelength_training import train
from tracks.models import Track

log = logging.getLogger(__name__)

DECODE_BATCH = 16


def training_tracks(folders: Sequence[Path] = ()) -> list[Track]:
    """The library's ready tracks (the canonical copy of each recording), optionally only those under `folders`."""
    tracks = Track.objects.canonical().filter(status=Track.Status.READY).order_by("pk")
    if folders:
        prefixes = [str(Path(folder).expanduser().resolve()).rstrip("/") + "/" for folder in folders]
        tracks = [t for t in tracks if any(_track_file(t).startswith(prefix) for prefix in prefixes)]
    return list(tracks)


def _track_file(track: Track) -> str:
    path = track.local_audio_path
    if path is None and track.source == Track.Source.FOLDER:
        path = Path(track.source_key)
    return str(path) if path is not None else ""


def library_features(
    tracks: Sequence[Track], segments: SegmentFeatures, on_batch: Callable[[int, int], None] | None = None
) -> tuple[list[int], list[np.ndarray]]:
    """(track ids, one (patches, SEGMENT_DIM) feature array each) for the tracks that decode; the others are
    skipped."""
    ids, features = [], []
    for start in range(0, len(tracks), DECODE_BATCH):
        batch = list(tracks[start : start + DECODE_BATCH])
        decoded, failed = _decode_tracks(batch, segments.musicnn.sample_rate)
        for pk, reason in failed.items():
            log.warning("Track %s left out of training: %s", pk, reason)
        usable = [pk for pk in decoded if decoded[pk].decoded_s >= 1.0]
        if usable:
            ids.extend(usable)
            features.extend(segments([decoded[pk].samples for pk in usable]))
        if on_batch is not None:
            on_batch(min(start + DECODE_BATCH, len(tracks)), len(tracks))
    return ids, features


def model_config(device_type: str, epochs: int | None, overrides: dict | None = None) -> WavelengthConfig:
    """The CPU-sized default, or the larger config on a GPU; `epochs` and `overrides` replace fields."""
    config = gpu_config() if device_type == "cuda" else WavelengthConfig()
    values = {**(overrides or {}), **({"epochs": epochs} if epochs else {})}
    return dataclasses.replace(config, **values)


def train_library_model(
    name: str,
    *,
    epochs: int | None = None,
    max_minutes: float | None = None,
    device: str = "auto",
    seed: int = 0,
    folders: Sequence[Path] = (),
    config_overrides: dict | None = None,
    fresh: bool = False,
    run: TrainingRun | None = None,
    on_features: Callable[[int, int], None] | None = None,
    on_epoch: Callable[[int, int, dict], None] | None = None,
) -> dict:
    """Train `name` on the library's ready tracks and write its checkpoint; returns the training summary.

    Raises ValueError with a sentence when there is too little to train on, ModelUnavailable when musicnn
    (the frozen front end) or the device cannot be had. `run`, when given, records the progress for staff.
    """
    torch_device = resolve_device(device, model=name)
    tracks = training_tracks(folders)
    if len(tracks) < 2:
        raise ValueError(
            f"Training needs at least two ready tracks; the library has {len(tracks)}"
            + (" under the folders given." if folders else ". Add music and let it embed first.")
        )
    segments = SegmentFeatures(device=device)

    def features_progress(done: int, total: int) -> None:
        _record(run, status=TrainingRun.Status.FEATURES, done=done, total=total)
        if on_features is not None:
            on_features(done, total)

    _record(run, status=TrainingRun.Status.FEATURES, done=0, total=len(tracks), message="")
    ids, features = library_features(tracks, segments, features_progress)
    config = model_config(torch_device.type, epochs, config_overrides)
    if torch_device.type == "cpu":
        # The model is small: a second thread only adds waiting (8x slower per epoch on a busy 2-core machine),
        # and leaves the other core to the web process.
        torch.set_num_threads(1)

    def epoch_progress(epoch: int, total: int, row: dict) -> None:
        loss = row["validation"].get("total")
        _record(
            run,
            status=TrainingRun.Status.TRAINING,
            done=epoch,
            total=total,
            message=f"validation loss {loss:.4f}" if loss is not None else "",
        )
        if on_epoch is not None:
            on_epoch(epoch, total, row)

    _record(run, status=TrainingRun.Status.TRAINING, done=0, total=config.epochs)
    about = {"features": FEATURES, "track_ids": ids, "folders": [str(f) for f in folders]}
    summary = train(
        [features_read(f, config.feature_dim) for f in features],
        config,
        checkpoint_path(name),
        seed=seed,
        device=torch_device,
        max_minutes=max_minutes,
        resume=not fresh,
        about=about,
        on_epoch=epoch_progress,
    )
    finished = summary["stopped"] == "finished"
    _record(
        run,
        status=TrainingRun.Status.FINISHED if finished else TrainingRun.Status.STOPPED,
        summary={key: value for key, value in summary.items() if key not in ("history", "about")},
        message=f"best validation loss {summary['best_validation_loss']:.4f} at epoch {summary['best_epoch']}",
    )
    return summary


def _record(run: TrainingRun | None, **fields) -> None:
    if run is None:
        return
    for key, value in fields.items():
        setattr(run, key, value)
    run.save(update_fields=[*fields, "updated"])
