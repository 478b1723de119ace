"""What every music model offers the rest of the site, and the registry that picks one by name.

Model files (one per model under embedding/) import torch or heavy DSP; this module does not, and it has no
Django imports, so the web process can list the models without loading any of them.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


class ModelUnavailable(RuntimeError):
    """A model cannot be used on this machine (weights missing, wrong checksum, wrong layout).

    The message says which file was expected and what to do; nothing falls back to another model silently.
    """


@dataclass
class EmbeddingBatch:
    """Vectors for a batch of clips, in the order the clips were given."""

    vectors: np.ndarray  # (n, dim) float32, each row L2-normalised
    tags: list[dict[str, float]] = field(default_factory=list)  # per clip; empty for models without tags


class AudioEmbedder(Protocol):
    name: str  # registry name, also EmbeddingModel.name
    dim: int
    sample_rate: int  # the rate decode() must deliver, in Hz
    settings: dict  # how vectors are made (layer, pooling, hop...), stored in EmbeddingModel.settings
    weights_sha256: str  # checksum of the weights actually loaded ("" for models without weights)

    def embed(self, waveforms: list[np.ndarray]) -> EmbeddingBatch:
        """Embed mono float32 waveforms at `sample_rate`; clips may differ in length."""
        ...


# name -> "module:factory". The factory takes keyword options (e.g. device="cpu") and returns an AudioEmbedder.
REGISTRY: dict[str, str] = {
    "musicnn": "embedding.segments:load_musicnn",  # embedding.musicnn's, keeping its per-patch features
    "spectral": "embedding.spectral:load_embedder",
    "musicfm": "embedding.musicfm:load_embedder",
    "wavelength-1": "embedding.wavelength:load_embedder",
}
DEFAULT_MODEL = "musicnn"
# Models trained here (`manage.py train_embedder --name wavelength-...`) are found by this prefix: each is a
# checkpoint of the same network, loaded by the same factory with its name.
TRAINED_PREFIX = "wavelength-"
DEFAULT_TRAINED_MODEL = "wavelength-1"
TRAINED_NAME = re.compile(r"wavelength-[a-z0-9][a-z0-9-]{0,40}")
TRAINED_FACTORY = "embedding.wavelength:load_embedder"


def is_model_name(name: str) -> bool:
    """Whether `name` is a registered model or a name a trained model may have (it may not be trained yet)."""
    return name in REGISTRY or bool(TRAINED_NAME.fullmatch(name))


def load_embedder(name: str, **options) -> AudioEmbedder:
    if name in REGISTRY:
        target = REGISTRY[name]
    elif TRAINED_NAME.fullmatch(name):
        target = TRAINED_FACTORY
    else:
        known = ", ".join(sorted(REGISTRY))
        raise ModelUnavailable(
            f"There is no model named {name!r}. Known models: {known}, and models trained here "
            f"(named {TRAINED_PREFIX}...)."
        )
    if target == TRAINED_FACTORY:  # one factory serves every trained model, so it is told which
        options.setdefault("name", name)
    module_name, factory_name = target.split(":")
    factory = getattr(importlib.import_module(module_name), factory_name)
    return factory(**options)


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length; a zero row (pure silence in some models) raises instead of making NaN."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    if np.any(norms == 0) or not np.all(np.isfinite(norms)):
        raise ValueError("Cannot normalise a zero or non-finite embedding.")
    return vectors / norms


def normalise_level(samples: np.ndarray, target_dbfs: float) -> np.ndarray:
    """The clip scaled so that its RMS level is `target_dbfs` (silence is refused earlier, by the decoder)."""
    samples = np.asarray(samples, dtype=np.float32)
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    if rms == 0.0 or not np.isfinite(rms):
        raise ValueError("Cannot set the level of a silent or non-finite clip.")
    return samples * np.float32(10 ** (target_dbfs / 20) / rms)
