"""The MusicFM 25 Hz network (330M parameters) in plain PyTorch, without torchaudio or transformers.

MusicFM (Won, Hung and Le, ByteDance; code MIT, https://github.com/minzwon/musicfm) is a BEST-RQ music model: a
128-band mel spectrogram at 100 Hz, a two-block residual conv front-end down to 25 Hz, and a 12-layer rotary
Wav2Vec2-Conformer. Module and parameter names follow the original code (torchaudio's MelSpectrogram inside it,
Hugging Face's Wav2Vec2ConformerEncoder) so that `pretrained_msd.pt` / `pretrained_fma.pt` (a dict with
"state_dict", every key prefixed "model.") load with `load_state_dict(strict=True)`. Parts that only training uses
(the random-projection quantizer, the token head `linear`, `cls_token`, the conformer's convolutional position
embedding) are kept as parameters so that strict loading works, and are never run.

The mel front end stays in torch (torchaudio's HTK-scale definition, on the model's device) rather than in
embedding.dsp: its filterbank and window are buffers of the checkpoint, and it runs batched on the GPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


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
