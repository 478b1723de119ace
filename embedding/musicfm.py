"""MusicFM 25 Hz as an AudioEmbedder: loads and checks the official checkpoints, and embeds clips with one layer.

The network (MusicFM, Won, Hung and Le, ByteDance; code MIT, https://github.com/minzwon/musicfm) is in
`embedding.musicfm_network`, under the original code's module names so that the published `pretrained_msd.pt` /
`pretrained_fma.pt` load with `load_state_dict(strict=True)`. This module finds the checkpoint and its stats
file, refuses the ways a download can be wrong with a sentence saying what to do, and pools the hidden states.

How a clip becomes a vector: mono float32 audio at 24 kHz is cut into equal chunks of at most 30 s (the length
MusicFM was trained on; attention memory grows with the square of the length); each chunk gives the hidden states
of `layer` (7 by default, the MusicFM README's advice) at 25 Hz; the vector is their mean over every frame of every
chunk, L2-normalised. Chunks of exactly the same length share a forward pass; nothing is padded, so a clip's
vector does not depend on what it was batched with.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from discovery.lib.hashing import file_sha256
from embedding.base import EmbeddingBatch, ModelUnavailable, l2_normalise
from embedding.devices import resolve_device
from embedding.musicfm_network import MusicFM, MusicFMConfig

CHECKPOINT_ENV = "MUSICFM_CHECKPOINT"
STATS_ENV = "MUSICFM_STATS"
CHUNK_SECONDS = 30
STATS_MEAN_KEY = "melspec_2048_mean"
STATS_STD_KEY = "melspec_2048_std"
WHAT_TO_DO = (
    "Download pretrained_msd.pt with msd_stats.json (or pretrained_fma.pt with fma_stats.json) from "
    f"https://huggingface.co/minzwon/MusicFM and set {CHECKPOINT_ENV} and {STATS_ENV} to their paths."
)


class MusicFMEmbedder:
    name = "musicfm"

    def __init__(
        self,
        model: MusicFM,
        *,
        layer: int,
        device: torch.device,
        batch_size: int,
        precision: str,
        settings: dict,
        weights_sha256: str,
    ):
        self.model = model
        self.layer = layer
        self.device = device
        self.batch_size = batch_size
        self.precision = precision
        self.settings = settings
        self.weights_sha256 = weights_sha256
        self.dim = model.config.encoder_dim
        self.sample_rate = model.config.sample_rate
        self.chunk_samples = CHUNK_SECONDS * self.sample_rate
        self.min_samples = model.config.n_fft

    def embed(self, waveforms: list[np.ndarray]) -> EmbeddingBatch:
        """Mono float32 clips at 24 kHz, any length from n_fft samples (85 ms); one unit vector per clip."""
        if not waveforms:
            return EmbeddingBatch(vectors=np.zeros((0, self.dim), dtype=np.float32))
        chunks: dict[int, list[tuple[int, np.ndarray]]] = {}
        for index, waveform in enumerate(waveforms):
            waveform = np.asarray(waveform, dtype=np.float32)
            if waveform.ndim != 1:
                raise ValueError(f"Clip {index} has shape {waveform.shape}; MusicFM takes mono 1-d waveforms.")
            if waveform.shape[0] < self.min_samples:
                raise ValueError(
                    f"Clip {index} has {waveform.shape[0]} samples; MusicFM needs at least {self.min_samples} "
                    f"({self.min_samples / self.sample_rate * 1000:.0f} ms at {self.sample_rate} Hz)."
                )
            # Equal chunks rather than 30 s plus a remainder, so no chunk is too short to say anything.
            n_chunks = math.ceil(waveform.shape[0] / self.chunk_samples)
            for chunk in np.array_split(waveform, n_chunks):
                chunks.setdefault(chunk.shape[0], []).append((index, chunk))

        frame_sums = np.zeros((len(waveforms), self.dim), dtype=np.float64)
        frame_counts = np.zeros(len(waveforms), dtype=np.int64)
        for same_length in chunks.values():
            for start in range(0, len(same_length), self.batch_size):
                batch = same_length[start : start + self.batch_size]
                hidden = self._hidden_state(np.stack([chunk for _, chunk in batch]))  # (B, T, D)
                for (index, _), frames in zip(batch, hidden):
                    frame_sums[index] += frames.sum(axis=0)
                    frame_counts[index] += frames.shape[0]
        return EmbeddingBatch(vectors=l2_normalise(frame_sums / frame_counts[:, None]), tags=[])

    def _hidden_state(self, waveforms: np.ndarray) -> np.ndarray:  # (B, N) -> (B, N/hop/4, D)
        x = torch.from_numpy(waveforms).to(self.device)
        with torch.inference_mode(), torch.autocast(
            self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16"
        ):
            hidden = self.model(x, depth=self.layer)[self.layer]
        return hidden.float().cpu().numpy().astype(np.float64)


def load_embedder(
    device: str = "auto",
    checkpoint: str | os.PathLike | None = None,
    stats: str | os.PathLike | None = None,
    layer: int = 7,
    batch_size: int = 4,
    precision: str = "fp32",
    config: MusicFMConfig | None = None,
) -> MusicFMEmbedder:
    """MusicFM from the official checkpoint and stats files, or ModelUnavailable saying what is wrong.

    checkpoint / stats default to the MUSICFM_CHECKPOINT / MUSICFM_STATS environment variables. precision "bf16"
    (CUDA only) runs the front-end convolutions and the conformer under bf16 autocast: faster, but its vectors
    differ slightly from fp32 ones, which is why it is recorded in `settings`. `config` exists for
    tests; the published weights need the default.
    """
    config = config or MusicFMConfig()
    if not 0 <= layer <= config.encoder_depth:
        raise ValueError(f"layer must be between 0 and {config.encoder_depth}, not {layer}.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}.")
    torch_device = resolve_device(device, model="MusicFM")
    if precision not in ("fp32", "bf16"):
        raise ValueError(f'precision must be "fp32" or "bf16", not {precision!r}.')
    if precision == "bf16" and torch_device.type != "cuda":
        raise ValueError("bf16 precision is only offered on CUDA; use fp32 on the CPU.")

    checkpoint_path = _required_file(checkpoint, CHECKPOINT_ENV, "checkpoint")
    stats_path = _required_file(stats, STATS_ENV, "stats file")
    _check_same_training_set(checkpoint_path, stats_path)
    mel_mean, mel_std = read_stats(stats_path)
    model = build_model(read_checkpoint(checkpoint_path), config, checkpoint_path, torch_device)
    model.mel_mean, model.mel_std = mel_mean, mel_std

    settings = {
        "layer": layer,
        "pooling": "mean over time",
        "chunk_seconds": CHUNK_SECONDS,
        "sample_rate": config.sample_rate,
        "checkpoint": checkpoint_path.name,
        "stats": {"file": stats_path.name, STATS_MEAN_KEY: mel_mean, STATS_STD_KEY: mel_std},
        "precision": precision,
    }
    return MusicFMEmbedder(
        model,
        layer=layer,
        device=torch_device,
        batch_size=batch_size,
        precision=precision,
        settings=settings,
        weights_sha256=file_sha256(checkpoint_path),
    )


def _required_file(given, env_var: str, what: str) -> Path:
    value = given if given is not None else os.environ.get(env_var, "")
    if not str(value):
        raise ModelUnavailable(f"MusicFM has no {what}: pass it to load_embedder or set {env_var}. {WHAT_TO_DO}")
    path = Path(value).expanduser()
    if not path.exists():
        raise ModelUnavailable(f"The MusicFM {what} {path} does not exist. {WHAT_TO_DO}")
    if not path.is_file():
        raise ModelUnavailable(f"The MusicFM {what} {path} is not a file. {WHAT_TO_DO}")
    return path


def _training_set(path: Path) -> str | None:
    name = path.name.lower()
    found = [tag for tag in ("msd", "fma") if tag in name]
    return found[0] if len(found) == 1 else None


def _check_same_training_set(checkpoint: Path, stats: Path) -> None:
    # Each checkpoint was trained on mel statistics of its own data set; the wrong pair still runs but gives
    # quietly worse vectors, so the one mismatch the file names reveal is refused.
    checkpoint_set, stats_set = _training_set(checkpoint), _training_set(stats)
    if checkpoint_set and stats_set and checkpoint_set != stats_set:
        raise ModelUnavailable(
            f"The MusicFM checkpoint {checkpoint.name} was trained on {checkpoint_set.upper()} but the stats file "
            f"{stats.name} is for {stats_set.upper()}; use {checkpoint_set}_stats.json with it."
        )


def read_stats(path: Path) -> tuple[float, float]:
    """The mel mean and standard deviation from a MusicFM stats JSON."""
    try:
        stats = json.loads(Path(path).read_text())
    except OSError as error:
        raise ModelUnavailable(f"The MusicFM stats file {path} could not be read ({error}). {WHAT_TO_DO}") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelUnavailable(f"The MusicFM stats file {path} is not valid JSON ({error}). {WHAT_TO_DO}") from error
    if not isinstance(stats, dict) or STATS_MEAN_KEY not in stats or STATS_STD_KEY not in stats:
        raise ModelUnavailable(
            f"The MusicFM stats file {path} has no {STATS_MEAN_KEY} and {STATS_STD_KEY}; it is not a MusicFM stats "
            f"file. {WHAT_TO_DO}"
        )
    mean, std = stats[STATS_MEAN_KEY], stats[STATS_STD_KEY]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (mean, std)):
        raise ModelUnavailable(f"The MusicFM stats file {path} has non-numeric {STATS_MEAN_KEY}/{STATS_STD_KEY}.")
    if std <= 0:
        raise ModelUnavailable(f"The MusicFM stats file {path} has {STATS_STD_KEY} = {std}; it must be positive.")
    return float(mean), float(std)


def read_checkpoint(path: Path) -> dict[str, torch.Tensor]:
    """The state dict of an official MusicFM checkpoint, "model." prefix stripped, pos_conv under legacy names."""
    try:
        # mmap keeps the 1.3 GB file in the page cache instead of a second copy in process memory; only the
        # zip-based format supports it. weights_only refuses pickled code: the published files hold only tensors.
        raw = torch.load(path, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(path))
    except Exception as error:  # torch.load signals a bad file with many exception types
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelUnavailable(
            f"The MusicFM checkpoint {path} could not be read as a PyTorch checkpoint ({reason}). {WHAT_TO_DO}"
        ) from error
    if not isinstance(raw, Mapping) or not isinstance(raw.get("state_dict"), Mapping):
        found = f"a dict with keys {sorted(map(str, raw))[:5]}" if isinstance(raw, Mapping) else type(raw).__name__
        raise ModelUnavailable(
            f'The MusicFM checkpoint {path} should hold a dict with a "state_dict" entry but holds {found}. '
            f"{WHAT_TO_DO}"
        )
    state_dict = raw["state_dict"]
    unprefixed = [str(key) for key in state_dict if not (isinstance(key, str) and key.startswith("model."))]
    if unprefixed:
        raise ModelUnavailable(
            f'The MusicFM checkpoint {path} has {len(unprefixed)} keys without the "model." prefix of the official '
            f"files ({_summarise(unprefixed)}). {WHAT_TO_DO}"
        )
    not_tensors = [key for key, value in state_dict.items() if not isinstance(value, torch.Tensor)]
    if not_tensors:
        raise ModelUnavailable(
            f"The MusicFM checkpoint {path} has entries that are not tensors ({_summarise(not_tensors)}). {WHAT_TO_DO}"
        )
    return legacy_weight_norm_names({key[len("model.") :]: value for key, value in state_dict.items()})


def legacy_weight_norm_names(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename torch.nn.utils.parametrizations.weight_norm keys (original0 = g, original1 = v) to weight_g/weight_v.

    Checkpoints saved with newer transformers use the parametrizations layout; the published ones the legacy one.
    """
    renamed = {}
    for key, value in state_dict.items():
        key = key.replace(".parametrizations.weight.original0", ".weight_g")
        key = key.replace(".parametrizations.weight.original1", ".weight_v")
        renamed[key] = value
    return renamed


def build_model(
    state_dict: Mapping[str, torch.Tensor], config: MusicFMConfig, path: Path, device: torch.device
) -> MusicFM:
    """MusicFM on `device` with exactly the checkpoint's weights, in eval mode; ModelUnavailable if they do not fit."""
    # Built on the meta device: no 1.3 GB of random initialisation that the checkpoint would overwrite anyway.
    with torch.device("meta"):
        model = MusicFM(config)
    problems = state_dict_problems({key: value.shape for key, value in model.state_dict().items()}, state_dict)
    if problems:
        raise ModelUnavailable(
            f"The MusicFM checkpoint {path.name} ({path}) does not fit the MusicFM 25 Hz model: {'; '.join(problems)}. "
            f"Only the 12-layer checkpoints published from February 2024 fit. {WHAT_TO_DO}"
        )
    model = model.to_empty(device=device)
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as error:
        raise ModelUnavailable(f"The MusicFM checkpoint {path} could not be loaded: {error}. {WHAT_TO_DO}") from error
    return model.eval().requires_grad_(False)


def state_dict_problems(expected: Mapping[str, torch.Size], found: Mapping[str, torch.Tensor]) -> list[str]:
    """Missing keys, unexpected keys and shape mismatches, each summarised in one phrase; empty if all fit."""
    missing = [key for key in expected if key not in found]
    unexpected = [key for key in found if key not in expected]
    mismatched = [
        f"{key} is {list(found[key].shape)} in the file but {list(expected[key])} in the model"
        for key in expected
        if key in found and found[key].shape != expected[key]
    ]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing keys ({_summarise(missing)})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected keys ({_summarise(unexpected)})")
    if mismatched:
        problems.append(f"{len(mismatched)} shape mismatches ({_summarise(mismatched)})")
    return problems


def _summarise(items: list[str], shown: int = 4) -> str:
    more = f", and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more
