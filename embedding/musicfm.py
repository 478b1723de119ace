"""MusicFM 25 Hz (330M parameters) in plain PyTorch; loads the official checkpoints without torchaudio or transformers.

MusicFM (Won, Hung and Le, ByteDance; code MIT, https://github.com/minzwon/musicfm) is a BEST-RQ music model: a
128-band mel spectrogram at 100 Hz, a two-block residual conv front-end down to 25 Hz, and a 12-layer rotary
Wav2Vec2-Conformer. Module and parameter names follow the original code (torchaudio's MelSpectrogram inside it,
Hugging Face's Wav2Vec2ConformerEncoder) so that `pretrained_msd.pt` / `pretrained_fma.pt` (a dict with
"state_dict", every key prefixed "model.") load with `load_state_dict(strict=True)`. Parts that only training uses
(the random-projection quantizer, the token head `linear`, `cls_token`, the conformer's convolutional position
embedding) are kept as parameters so that strict loading works, and are never run.

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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from discovery.lib.hashing import file_sha256
from embedding.base import EmbeddingBatch, ModelUnavailable, l2_normalise
from embedding.devices import resolve_device

CHECKPOINT_ENV = "MUSICFM_CHECKPOINT"
STATS_ENV = "MUSICFM_STATS"
CHUNK_SECONDS = 30
STATS_MEAN_KEY = "melspec_2048_mean"
STATS_STD_KEY = "melspec_2048_std"
WHAT_TO_DO = (
    "Download pretrained_msd.pt with msd_stats.json (or pretrained_fma.pt with fma_stats.json) from "
    f"https://huggingface.co/minzwon/MusicFM and set {CHECKPOINT_ENV} and {STATS_ENV} to their paths."
)


@dataclass(frozen=True)
class MusicFMConfig:
    sample_rate: int = 24000
    n_fft: int = 2048
    hop_length: int = 240
    n_mels: int = 128
    conv_dim: int = 512
    encoder_dim: int = 1024
    encoder_depth: int = 12
    num_heads: int = 16
    intermediate_dim: int = 4096
    depthwise_kernel: int = 31
    pos_conv_kernel: int = 128
    pos_conv_groups: int = 16
    rotary_base: float = 10000.0
    layer_norm_eps: float = 1e-5
    codebook_dim: int = 16
    codebook_size: int = 4096


def htk_mel_filterbank(n_freqs: int, n_mels: int, sample_rate: int, f_min: float = 0.0, f_max: float | None = None):
    """Triangular HTK-mel filters without area normalisation, (n_freqs, n_mels), as torchaudio's MelScale makes them."""
    f_max = sample_rate / 2 if f_max is None else f_max
    all_freqs = torch.linspace(0, sample_rate // 2, n_freqs)
    m_min = 2595.0 * math.log10(1.0 + f_min / 700.0)
    m_max = 2595.0 * math.log10(1.0 + f_max / 700.0)
    f_pts = 700.0 * (10.0 ** (torch.linspace(m_min, m_max, n_mels + 2) / 2595.0) - 1.0)  # (n_mels+2,)
    f_diff = f_pts[1:] - f_pts[:-1]  # (n_mels+1,)
    slopes = f_pts[None, :] - all_freqs[:, None]  # (n_freqs, n_mels+2)
    down_slopes = -slopes[:, :-2] / f_diff[:-1]
    up_slopes = slopes[:, 2:] / f_diff[1:]
    return torch.clamp(torch.minimum(down_slopes, up_slopes), min=0.0)


class Spectrogram(nn.Module):
    def __init__(self, n_fft: int, hop_length: int):
        super().__init__()
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.register_buffer("window", torch.hann_window(n_fft))

    def forward(self, waveform):  # (B, N) -> (B, n_fft/2+1, 1 + N/hop)
        spec = torch.stft(
            waveform,
            self.n_fft,
            hop_length=self.hop_length,
            window=self.window,
            center=True,
            pad_mode="reflect",
            return_complex=True,
        )
        return spec.abs().pow(2)


class MelScale(nn.Module):
    def __init__(self, n_mels: int, sample_rate: int, n_freqs: int):
        super().__init__()
        self.register_buffer("fb", htk_mel_filterbank(n_freqs, n_mels, sample_rate))

    def forward(self, spec):  # (B, F, T) -> (B, n_mels, T)
        return torch.matmul(spec.transpose(-1, -2), self.fb).transpose(-1, -2)


class MelSpectrogram(nn.Module):
    def __init__(self, config: MusicFMConfig):
        super().__init__()
        self.spectrogram = Spectrogram(config.n_fft, config.hop_length)
        self.mel_scale = MelScale(config.n_mels, config.sample_rate, config.n_fft // 2 + 1)

    def forward(self, waveform):  # (B, N) -> (B, n_mels, 1 + N/hop)
        return self.mel_scale(self.spectrogram(waveform))


class MelSTFT(nn.Module):
    """Power mel spectrogram in dB (torchaudio's AmplitudeToDB defaults: floor 1e-10, no top_db)."""

    def __init__(self, config: MusicFMConfig):
        super().__init__()
        self.mel_stft = MelSpectrogram(config)

    def forward(self, waveform):  # (B, N) -> (B, n_mels, 1 + N/hop)
        return 10.0 * torch.log10(torch.clamp(self.mel_stft(waveform), min=1e-10))


class RandomProjectionQuantizer(nn.Module):
    """Targets for pre-training; inference never uses it."""

    def __init__(self, input_dim: int, codebook_dim: int, codebook_size: int):
        super().__init__()
        self.register_buffer("random_projection", torch.randn(input_dim, codebook_dim) / math.sqrt(input_dim))
        self.register_buffer("codebook", torch.randn(codebook_size, codebook_dim))


class Res2dBlock(nn.Module):
    """Two 3x3 convolutions beside a strided 3x3 shortcut; halves frequency and time."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv3 = nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1)
        self.bn3 = nn.BatchNorm2d(out_channels)

    def forward(self, x):  # (B, C_in, F, T) -> (B, C_out, F/2, T/2)
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + self.bn3(self.conv3(x)))


class ConvSubsampling(nn.Module):
    def __init__(self, config: MusicFMConfig):
        super().__init__()
        self.conv = nn.Sequential(Res2dBlock(1, config.conv_dim), Res2dBlock(config.conv_dim, config.conv_dim))
        self.linear = nn.Linear(config.conv_dim * (config.n_mels // 4), config.encoder_dim)

    def forward(self, mel):  # (B, n_mels, T) -> (B, T/4, D)
        x = self.conv(mel.unsqueeze(1))  # (B, C, n_mels/4, T/4)
        b, c, f, t = x.shape
        # Channel-major, frequency-minor flattening, as the checkpoint's linear layer was trained on.
        x = x.permute(0, 3, 1, 2).reshape(b, t, c * f)
        return self.linear(x)


class RotaryEmbedding(nn.Module):
    def __init__(self, head_dim: int, base: float):
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2).float() / head_dim))
        self.register_buffer("inv_freq", inv_freq)

    def forward(self, length: int):  # -> cos, sin, each (T, head_dim), fp32 whatever the autocast
        positions = torch.arange(length, device=self.inv_freq.device, dtype=self.inv_freq.dtype)
        freqs = positions[:, None] * self.inv_freq[None, :]  # (T, head_dim/2)
        angles = torch.cat((freqs, freqs), dim=-1)
        return angles.cos(), angles.sin()


def rotate_half(x):  # (..., d) -> (..., d)
    first, second = x.chunk(2, dim=-1)
    return torch.cat((-second, first), dim=-1)


class WeightNormConv1d(nn.Module):
    """Parameters of a weight-normalised grouped Conv1d under the legacy names weight_g / weight_v."""

    def __init__(self, channels: int, kernel_size: int, groups: int):
        super().__init__()
        self.weight_g = nn.Parameter(torch.ones(1, 1, kernel_size))
        self.weight_v = nn.Parameter(torch.randn(channels, channels // groups, kernel_size) * 0.02)
        self.bias = nn.Parameter(torch.zeros(channels))


class PositionalConvEmbedding(nn.Module):
    """Wav2Vec2-Conformer builds this even with rotary positions, then never calls it; kept for strict loading."""

    def __init__(self, config: MusicFMConfig):
        super().__init__()
        self.conv = WeightNormConv1d(config.encoder_dim, config.pos_conv_kernel, config.pos_conv_groups)


class FeedForward(nn.Module):
    def __init__(self, config: MusicFMConfig):
        super().__init__()
        self.intermediate_dense = nn.Linear(config.encoder_dim, config.intermediate_dim)
        self.output_dense = nn.Linear(config.intermediate_dim, config.encoder_dim)

    def forward(self, x):  # (B, T, D) -> (B, T, D)
        return self.output_dense(F.silu(self.intermediate_dense(x)))


class SelfAttention(nn.Module):
    def __init__(self, config: MusicFMConfig):
        super().__init__()
        self.num_heads = config.num_heads
        self.head_dim = config.encoder_dim // config.num_heads
        self.linear_q = nn.Linear(config.encoder_dim, config.encoder_dim)
        self.linear_k = nn.Linear(config.encoder_dim, config.encoder_dim)
        self.linear_v = nn.Linear(config.encoder_dim, config.encoder_dim)
        self.linear_out = nn.Linear(config.encoder_dim, config.encoder_dim)

    def forward(self, x, cos, sin):  # x (B, T, D), cos/sin (T, head_dim) -> (B, T, D)
        b, t, d = x.shape
        # Hugging Face's rotary conformer rotates the (layer-normed) input, split into heads, *before* linear_q and
        # linear_k, rather than rotating q and k; the checkpoint was trained that way, so it must be copied.
        heads = x.view(b, t, self.num_heads, self.head_dim)
        rotated = heads * cos[:, None, :].to(x.dtype) + rotate_half(heads) * sin[:, None, :].to(x.dtype)
        rotated = rotated.reshape(b, t, d)
        q = self.linear_q(rotated).view(b, t, self.num_heads, self.head_dim).transpose(1, 2)  # (B, H, T, hd)
        k = self.linear_k(rotated).view(b, t, self.num_heads, self.head_dim).transpose(1, 2)
        v = self.linear_v(x).view(b, t, self.num_heads, self.head_dim).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v)  # (B, H, T, hd), scores scaled by 1/sqrt(hd)
        return self.linear_out(y.transpose(1, 2).reshape(b, t, d))


class ConvModule(nn.Module):
    def __init__(self, config: MusicFMConfig):
        super().__init__()
        d = config.encoder_dim
        self.layer_norm = nn.LayerNorm(d, eps=config.layer_norm_eps)
        self.pointwise_conv1 = nn.Conv1d(d, 2 * d, 1, bias=False)
        self.depthwise_conv = nn.Conv1d(
            d, d, config.depthwise_kernel, padding=(config.depthwise_kernel - 1) // 2, groups=d, bias=False
        )
        self.batch_norm = nn.BatchNorm1d(d)
        self.pointwise_conv2 = nn.Conv1d(d, d, 1, bias=False)

    def forward(self, x):  # (B, T, D) -> (B, T, D)
        x = self.layer_norm(x).transpose(1, 2)  # (B, D, T)
        x = F.glu(self.pointwise_conv1(x), dim=1)  # (B, 2D, T) -> (B, D, T)
        x = F.silu(self.batch_norm(self.depthwise_conv(x)))
        return self.pointwise_conv2(x).transpose(1, 2)


class ConformerLayer(nn.Module):
    def __init__(self, config: MusicFMConfig):
        super().__init__()
        d, eps = config.encoder_dim, config.layer_norm_eps
        self.ffn1_layer_norm = nn.LayerNorm(d, eps=eps)
        self.ffn1 = FeedForward(config)
        self.self_attn_layer_norm = nn.LayerNorm(d, eps=eps)
        self.self_attn = SelfAttention(config)
        self.conv_module = ConvModule(config)
        self.ffn2_layer_norm = nn.LayerNorm(d, eps=eps)
        self.ffn2 = FeedForward(config)
        self.final_layer_norm = nn.LayerNorm(d, eps=eps)

    def forward(self, x, cos, sin):  # (B, T, D) -> (B, T, D)
        x = x + 0.5 * self.ffn1(self.ffn1_layer_norm(x))
        x = x + self.self_attn(self.self_attn_layer_norm(x), cos, sin)
        x = x + self.conv_module(x)
        x = x + 0.5 * self.ffn2(self.ffn2_layer_norm(x))
        return self.final_layer_norm(x)


class ConformerEncoder(nn.Module):
    def __init__(self, config: MusicFMConfig):
        super().__init__()
        self.embed_positions = RotaryEmbedding(config.encoder_dim // config.num_heads, config.rotary_base)
        self.pos_conv_embed = PositionalConvEmbedding(config)
        self.layer_norm = nn.LayerNorm(config.encoder_dim, eps=config.layer_norm_eps)
        self.layers = nn.ModuleList(ConformerLayer(config) for _ in range(config.encoder_depth))

    def forward(self, x, depth: int) -> list[torch.Tensor]:  # (B, T, D) -> depth+1 tensors (B, T, D)
        cos, sin = self.embed_positions(x.shape[1])
        hidden_states = [x]
        for layer in self.layers[:depth]:
            x = layer(x, cos, sin)
            hidden_states.append(x)
        if depth == len(self.layers):
            hidden_states[-1] = self.layer_norm(x)
        return hidden_states


class MusicFM(nn.Module):
    """MusicFM 25 Hz. `mel_mean`/`mel_std` come from the stats JSON published with the checkpoint."""

    def __init__(self, config: MusicFMConfig, mel_mean: float = 0.0, mel_std: float = 1.0):
        super().__init__()
        self.config = config
        self.mel_mean = mel_mean
        self.mel_std = mel_std
        self.preprocessor_melspec_2048 = MelSTFT(config)
        self.quantizer_melspec_2048_0 = RandomProjectionQuantizer(
            config.n_mels * 4, config.codebook_dim, config.codebook_size
        )
        self.conv = ConvSubsampling(config)
        self.conformer = ConformerEncoder(config)
        self.linear = nn.Linear(config.encoder_dim, config.codebook_size)
        self.cls_token = nn.Parameter(torch.randn(config.encoder_dim))

    def melspectrogram(self, waveform):  # (B, N) -> (B, n_mels, N/hop) in dB
        # MusicFM computes its features in fp32 whatever the model precision, and drops the last STFT frame.
        with torch.autocast(waveform.device.type, enabled=False):
            return self.preprocessor_melspec_2048(waveform.float())[..., :-1]

    def forward(self, waveform, depth: int | None = None) -> list[torch.Tensor]:
        """Hidden states [0..depth] as Hugging Face numbers them: [0] is the conv front-end's output, [i] the output
        of conformer layer i, and [encoder_depth] passes through the encoder's final LayerNorm as well."""
        depth = self.config.encoder_depth if depth is None else depth
        mel = (self.melspectrogram(waveform) - self.mel_mean) / self.mel_std  # (B, n_mels, T) at 100 Hz
        x = self.conv(mel)  # (B, T/4, D) at 25 Hz
        return self.conformer(x, depth)


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
