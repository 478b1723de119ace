"""Our own model, trained on the library itself: segment features in, one unit vector per track out.

A clip is cut into musicnn's 3-s patches; each patch becomes a 456-d feature through musicnn's frozen network
(its penultimate layer and the means of its channels: embedding.segments), and a wavelength Transformer
(embedding.wavelength_network), trained by `manage.py train_embedder`, reads the sequence and pools it.

The frozen features are the costly part, and training and embedding need the same ones, so they are computed
once and kept (embedding.segments; the `musicnn` model keeps them too as it embeds). Checkpoints live in
WAVELENGTH_DATA/models/<name>.pt.

A model whose checkpoint is missing or broken raises ModelUnavailable with what to do; nothing falls back.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from django.conf import settings

from discovery.lib.hashing import files_sha256
from embedding.base import DEFAULT_TRAINED_MODEL, EmbeddingBatch, ModelUnavailable, l2_normalise, normalise_level
from embedding.devices import resolve_device
from embedding.musicnn import INPUT_LEVEL_DBFS, SAMPLE_RATE, SEGMENT_DIM, clip_patches
from embedding.musicnn import load_embedder as load_musicnn
from embedding.segments import SegmentStore
from embedding.wavelength_training import CheckpointError, build_model, read_checkpoint

DEFAULT_NAME = DEFAULT_TRAINED_MODEL
FEATURES = "musicnn penultimate (200-d) and the means of its 256 firing channels per 3-s patch, RMS set to -14 dBFS"
PENULTIMATE_FEATURES = "musicnn penultimate (200-d) per 3-s patch, RMS set to -14 dBFS"  # models of feature_dim 200


def features_read(features: np.ndarray, feature_dim: int) -> np.ndarray:
    """What a model of `feature_dim` reads of (patches, SEGMENT_DIM) segment features: their first feature_dim
    columns. Models trained before the channel means were kept read the penultimate layer alone (200), which the
    features still begin with."""
    return np.ascontiguousarray(features[:, :feature_dim])


def features_description(feature_dim: int) -> str:
    return FEATURES if feature_dim == SEGMENT_DIM else PENULTIMATE_FEATURES


def models_dir() -> Path:
    return Path(settings.DATA_DIR) / "models"


def checkpoint_path(name: str) -> Path:
    return models_dir() / f"{name}.pt"


class SegmentFeatures:
    """musicnn's frozen network over each 3-s patch of a clip, read from the store where already made."""

    dim = SEGMENT_DIM

    def __init__(self, device: str = "auto", cache_dir: Path | None = None, batch_size: int = 32):
        self.musicnn = load_musicnn(device=device, batch_size=batch_size)
        self.store = SegmentStore(self.musicnn.weights_sha256, cache_dir)

    def __call__(self, waveforms: list[np.ndarray]) -> list[np.ndarray]:
        """One (patches, SEGMENT_DIM) float32 array per mono 16-kHz clip, in order; ValueError names a bad clip."""
        found = {i: f for i, w in enumerate(waveforms) if (f := self.store.load(w)) is not None}
        missing = [i for i in range(len(waveforms)) if i not in found]
        patches = []
        for i in missing:
            try:
                patches.append(clip_patches(normalise_level(waveforms[i], INPUT_LEVEL_DBFS)))
            except ValueError as error:
                raise ValueError(f"Clip {i + 1} of {len(waveforms)}: {error}") from error
        if patches:
            features, _ = self.musicnn.forward_patches(np.concatenate(patches), channels=True)
            bounds = np.cumsum([0] + [len(p) for p in patches])
            for i, a, b in zip(missing, bounds[:-1], bounds[1:]):
                found[i] = np.ascontiguousarray(features[a:b], dtype=np.float32)
                self.store.save(waveforms[i], found[i])
        return [found[i] for i in range(len(waveforms))]


class WavelengthEmbedder:
    """A trained wavelength checkpoint as an AudioEmbedder (see embedding.base)."""

    sample_rate = SAMPLE_RATE

    def __init__(self, name: str, path: Path, device: torch.device, segments: SegmentFeatures):
        try:
            checkpoint = read_checkpoint(path)
            self.network = build_model(checkpoint).to(device)
        except CheckpointError as error:
            raise ModelUnavailable(
                f"The {name} model cannot be used: {error} (python manage.py train_embedder --name {name})"
            ) from error
        self.name = name
        self.device = device
        self.segments = segments
        self.dim = self.network.config.out_dim
        self.weights_sha256 = files_sha256([path])
        summary = checkpoint.get("summary", {})
        self.summary = summary
        self.settings = {
            "checkpoint": path.name,
            "features": features_description(self.network.config.feature_dim),
            "config": checkpoint["config"],
            "trained_on_tracks": summary.get("tracks"),
            "epochs": summary.get("epochs_done"),
            "best_epoch": summary.get("best_epoch"),
            "pooling": (
                "whitened mean of the track's segments + mean of overlapping context windows' projections"
                if self.network.config.whitened_base
                else "mean of overlapping context windows' projections"
            ),
            "normalisation": "l2",
        }

    def embed(self, waveforms: list[np.ndarray]) -> EmbeddingBatch:
        if not waveforms:
            return EmbeddingBatch(vectors=np.zeros((0, self.dim), dtype=np.float32), tags=[])
        return EmbeddingBatch(vectors=self.embed_features(self.segments(waveforms)), tags=[])

    def embed_features(self, features: list[np.ndarray]) -> np.ndarray:
        """(n, dim) unit vectors from one (patches, SEGMENT_DIM) feature array per track (see features_read)."""
        used = self.network.config.feature_dim
        with torch.inference_mode():
            vectors = [
                self.network.embed_track(torch.from_numpy(features_read(f, used)).to(self.device)).float().cpu().numpy()
                for f in features
            ]
        return l2_normalise(np.stack(vectors))


def load_embedder(
    name: str = DEFAULT_NAME,
    device: str = "auto",
    checkpoint: Path | str | None = None,
    cache_dir: Path | str | None = None,
    batch_size: int = 32,
) -> WavelengthEmbedder:
    """The wavelength model `name` from its checkpoint (default WAVELENGTH_DATA/models/<name>.pt)."""
    path = Path(checkpoint) if checkpoint is not None else checkpoint_path(name)
    if not path.is_file():
        raise ModelUnavailable(
            f"The {name} model has not been trained here: there is no checkpoint at {path}. "
            f"Train it with: python manage.py train_embedder --name {name}"
        )
    torch_device = resolve_device(device, model=name)
    segments = SegmentFeatures(device=device, cache_dir=Path(cache_dir) if cache_dir else None, batch_size=batch_size)
    return WavelengthEmbedder(name, path, torch_device, segments)
