"""The spectrogram front end the NumPy-side models share (spectral, musicnn): window, STFT, Slaney mel scale, DCT.

Pure NumPy in float64, no Django and no torch, so the numbers are defined here rather than by a library version.
The definitions are librosa's defaults, which musicnn was trained with: a periodic Hann window, frames centred on
multiples of the hop with reflect padding, and Slaney's mel scale with triangles of unit area. What each model
does after the power spectrum (dB with a floor, musicnn's float16 log) stays in the model, because that is
where the two differ and what defines their vectors.

    front = Spectrogram(sample_rate=16000, n_fft=512, hop=256, n_mels=96)
    spectrum = front.stft(waveform)   # (1 + len // hop, n_fft // 2 + 1) complex128
    mel = power(spectrum) @ front.mel_basis   # (frames, n_mels)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

# Slaney's mel scale (librosa's default, htk=False): linear below 1 kHz at 200/3 Hz per mel, so 1 kHz is mel 15,
# and logarithmic above, 27 mels per factor of 6.4 (about 1,000 Hz to 6,400 Hz).
SLANEY_HZ_PER_MEL = 200.0 / 3
SLANEY_BREAK_HZ = 1000.0
SLANEY_BREAK_MEL = 15.0
SLANEY_LOG_STEP = np.log(6.4) / 27.0  # natural log of the frequency ratio per mel, above the break


def hz_to_mel(hz):
    """Slaney mels of frequencies in Hz (array or scalar, as float64)."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / SLANEY_HZ_PER_MEL
    # The floor only keeps log() quiet for the bins below the break; np.where discards them.
    log = SLANEY_BREAK_MEL + np.log(np.maximum(hz, 1e-10) / SLANEY_BREAK_HZ) / SLANEY_LOG_STEP
    return np.where(hz >= SLANEY_BREAK_HZ, log, linear)


def mel_to_hz(mel):
    """Frequencies in Hz of Slaney mels; the inverse of hz_to_mel."""
    mel = np.asarray(mel, dtype=np.float64)
    linear = mel * SLANEY_HZ_PER_MEL
    log = SLANEY_BREAK_HZ * np.exp((mel - SLANEY_BREAK_MEL) * SLANEY_LOG_STEP)
    return np.where(mel >= SLANEY_BREAK_MEL, log, linear)


def bin_frequencies(sample_rate: int, n_fft: int) -> np.ndarray:
    """(n_fft // 2 + 1,) centre frequency in Hz of each rfft bin, 0 to Nyquist."""
    return np.linspace(0, sample_rate / 2, n_fft // 2 + 1)


def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, norm: str | None = "slaney") -> np.ndarray:
    """(n_fft // 2 + 1, n_mels) triangles evenly spaced in Slaney mels from 0 Hz to Nyquist.

    norm="slaney" scales each triangle to unit area in Hz (librosa's norm='slaney'), so a band's output does
    not grow with its width; norm=None leaves each triangle's peak at 1.
    """
    if norm not in ("slaney", None):
        raise ValueError(f'norm must be "slaney" or None, not {norm!r}.')
    bins_hz = bin_frequencies(sample_rate, n_fft)
    edges_hz = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sample_rate / 2), n_mels + 2))  # (n_mels + 2,)
    lower, centre, upper = edges_hz[:-2, None], edges_hz[1:-1, None], edges_hz[2:, None]  # (n_mels, 1) each
    rising = (bins_hz - lower) / (centre - lower)  # (n_mels, bins)
    falling = (upper - bins_hz) / (upper - centre)
    triangles = np.maximum(0.0, np.minimum(rising, falling))
    if norm == "slaney":
        triangles = triangles * (2.0 / (upper - lower))  # a triangle of base b and height 2/b has area 1
    return triangles.T


def hann_window(n: int, periodic: bool = True) -> np.ndarray:
    """(n,) Hann window. Periodic (librosa, torch.stft) for spectral analysis: one period of n + 1 points with
    the last dropped, so overlapping windows at hop n/4 or n/2 sum to a constant; symmetric is np.hanning(n)."""
    period = n if periodic else n - 1
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / period)


def centred_frames(signal: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """(1 + len(signal) // hop, n_fft) float64 frames, frame t centred on sample t·hop (librosa's center=True).

    The signal is reflect-padded by n_fft // 2 at both ends. Reflecting needs more samples than the pad, so a
    signal that short is first padded with silence at the end (only clips under n_fft / 2 samples, which
    neither model is given in practice).
    """
    signal = np.asarray(signal, dtype=np.float64)
    if signal.ndim != 1:
        raise ValueError(f"Expected a mono signal (one dimension); got shape {signal.shape}.")
    pad = n_fft // 2
    if len(signal) <= pad:
        signal = np.pad(signal, (0, pad + 1 - len(signal)))
    padded = np.pad(signal, pad, mode="reflect")
    return np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]


def power(spectrum: np.ndarray) -> np.ndarray:
    """|X|² of a complex spectrum, without the square root and square that np.abs(X) ** 2 would take."""
    return spectrum.real**2 + spectrum.imag**2


def dct_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_in, n_out) orthonormal DCT-II, as scipy.fft.dct(norm='ortho') computes it: x @ D gives the first
    n_out coefficients of each row of x."""
    k = np.arange(n_out)[None, :]
    n = np.arange(n_in)[:, None]
    basis = np.cos(np.pi * k * (2 * n + 1) / (2 * n_in)) * np.sqrt(2.0 / n_in)
    basis[:, 0] /= np.sqrt(2.0)
    return basis


@dataclass(frozen=True)
class Spectrogram:
    """One model's STFT and mel settings; the window and filterbank are built once per instance."""

    sample_rate: int  # Hz
    n_fft: int  # samples per frame, also the window length
    hop: int  # samples between frame centres
    n_mels: int

    @property
    def n_bins(self) -> int:
        return self.n_fft // 2 + 1

    @property
    def frame_rate(self) -> float:
        return self.sample_rate / self.hop

    def n_frames(self, n_samples: int) -> int:
        return 1 + n_samples // self.hop

    @cached_property
    def window(self) -> np.ndarray:  # (n_fft,) float64
        return hann_window(self.n_fft)

    @cached_property
    def bins_hz(self) -> np.ndarray:  # (n_bins,) float64
        return bin_frequencies(self.sample_rate, self.n_fft)

    @cached_property
    def mel_basis(self) -> np.ndarray:  # (n_bins, n_mels) float64, unit-area Slaney triangles
        return mel_filterbank(self.sample_rate, self.n_fft, self.n_mels)

    def stft(self, signal: np.ndarray) -> np.ndarray:
        """(n_frames, n_bins) complex128 short-time Fourier transform of a mono signal at `sample_rate`."""
        return np.fft.rfft(centred_frames(signal, self.n_fft, self.hop) * self.window, axis=1)

    def power(self, signal: np.ndarray) -> np.ndarray:
        """(n_frames, n_bins) float64 |STFT|²."""
        return power(self.stft(signal))
