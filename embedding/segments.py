"""musicnn's features per 3-s patch, kept on disk: the input our own model (wavelength) reads.

Each patch keeps SEGMENT_DIM numbers: musicnn's penultimate layer (200), then the means over the patch of the
256 front- and mid-end channels that depend on the input (embedding.musicnn.MusicnnEmbedder.forward_patches).
Training and embedding need the same features, and they cost as much as musicnn's own embedding, so they are
kept once made, under WAVELENGTH_DATA/segments/musicnn-<weights>-<SEGMENT_DIM>/, one file per decoded waveform
named by its SHA-256 (a changed file decodes differently and gets new features; new musicnn weights or another
set of features get a new folder). The `musicnn` model keeps them as it embeds (about 60 kB a track), so
training on a library that musicnn has already embedded does not run musicnn again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from django.conf import settings

from embedding.musicnn import INPUT_LEVEL_DBFS, SEGMENT_DIM, MusicnnEmbedder
from embedding.musicnn import load_embedder as load_plain_musicnn


def segments_root() -> Path:
    return Path(settings.DATA_DIR) / "segments"


class SegmentStore:
    def __init__(self, weights_sha256: str, root: Path | None = None):
        root = Path(root) if root is not None else segments_root()
        self.folder = root / f"musicnn-{weights_sha256[:12]}-{SEGMENT_DIM}"

    def path(self, waveform: np.ndarray) -> Path:
        key = hashlib.sha256(np.ascontiguousarray(waveform, dtype=np.float32).tobytes()).hexdigest()
        return self.folder / key[:2] / f"{key}.npy"

    def load(self, waveform: np.ndarray) -> np.ndarray | None:
        path = self.path(waveform)
        if not path.is_file():
            return None
        try:
            features = np.load(path)
        except (OSError, ValueError):
            features = None
        if features is None or features.ndim != 2 or features.shape[1] != SEGMENT_DIM:
            path.unlink(missing_ok=True)  # a half-written file from a killed worker: made again
            return None
        return features

    def save(self, waveform: np.ndarray, features: np.ndarray) -> None:
        path = self.path(waveform)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.npy")
        np.save(partial, np.ascontiguousarray(features, dtype=np.float32))
        partial.replace(path)

    def save_many(self, waveforms: list[np.ndarray], features: list[np.ndarray]) -> None:
        for waveform, patches in zip(waveforms, features):
            self.save(waveform, patches)


def load_musicnn(**options) -> MusicnnEmbedder:
    """The `musicnn` model, keeping its per-patch features where wavelength finds them (see the docstring)."""
    embedder = load_plain_musicnn(**options)
    if settings.configured and embedder.input_level_dbfs == INPUT_LEVEL_DBFS:
        embedder.keep_patches = SegmentStore(embedder.weights_sha256).save_many
    return embedder
