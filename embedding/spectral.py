"""A model with no weights: classic DSP descriptors of timbre, harmony and rhythm, standardised into one vector.

It is the baseline every learned model must beat, and the model that works on a machine without checkpoints.
Everything is NumPy; no librosa, so the numbers are defined here (and in embedding.dsp, the STFT and mel
filterbank musicnn shares) rather than by a library version.

Per clip (mono, 22,050 Hz), from one STFT (2,048-point periodic Hann, hop 512, centred with reflect padding):
- mel_mean, mel_std: mean and standard deviation over time of 64 Slaney mel bands in dB. The mean is taken
  relative to the clip's average level, so it describes spectral shape, not loudness.
- mfcc_mean (c1–c19) and mfcc_std (c0–c19): orthonormal DCT-II of the dB mel frames. c0 is the frame's
  level, so only its variation (dynamics) is kept.
- chroma: energy per pitch class (55 Hz–5 kHz), each frame scaled to a maximum of 1, averaged over time.
- contrast: peak-minus-valley level in dB of seven octave sub-bands (librosa's spectral contrast), mean and
  standard deviation over time.
- rhythm: mean and standard deviation of onset strength (half-wave rectified dB mel flux), the tempo as
  log2(BPM / 120) from the autocorrelation of onset strength, and the height of that autocorrelation peak
  (pulse clarity).
Every feature is measured in dB differences or ratios, so a gain change leaves the vector as it was; only
the 80-dB floor below each clip's loudest bin can move, and only for near-silent material.

Standardisation: every feature becomes a standard score against a fixed centre and scale, squashed smoothly
beyond ±3 (Z_LIMIT); each group is weighted by 1/√(its size), so every group counts equally however many
numbers it has; and the whole vector is L2-normalised. The centres and scales are the median and the
root-mean-square spread about it of each feature over 300 music tracks (30 s from the middle of each) of a
development corpus of game soundtracks in many styles (orchestral, rock, electronic, chiptune, ambient),
measured once and written down here. Chroma gets one centre and scale for all twelve pitch classes, so the
corpus's favourite keys are not built in. The constants are never refitted, because refitting would silently
change every stored vector; changing them, like changing any feature, needs a new model name or a re-embed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import EmbeddingBatch, l2_normalise
from .dsp import Spectrogram, bin_frequencies, dct_matrix

SAMPLE_RATE = 22050
N_FFT = 2048
HOP = 512
N_MELS = 64
N_MFCC = 20
TOP_DB = 80.0
CONTRAST_EDGES_HZ = (0.0, 200.0, 400.0, 800.0, 1600.0, 3200.0, 6400.0, SAMPLE_RATE / 2)
CONTRAST_QUANTILE = 0.02
CHROMA_RANGE_HZ = (55.0, 5000.0)
TEMPO_RANGE_BPM = (40.0, 240.0)
# Listeners and annotators prefer tempi near 120 BPM; a log-normal prior one octave wide (librosa's default)
# settles octave ambiguity (60 vs 120 vs 240) the same way for every clip.
TEMPO_PRIOR_BPM, TEMPO_PRIOR_OCTAVES = 120.0, 1.0
# Standard scores are squashed smoothly towards ±3 so that one extreme feature (a pure tone has an absurd
# spectral contrast) cannot outweigh all the others in a cosine.
Z_LIMIT = 3.0


@dataclass(frozen=True)
class Group:
    name: str
    dim: int
    centre: tuple[float, ...]  # per feature, or one for all where the features are interchangeable
    scale: tuple[float, ...]


# fmt: off
GROUPS = (
    Group(
        "mel_mean",
        N_MELS,
        centre=(
            21.82, 23.75, 21.34, 19.90, 18.37, 17.29, 15.77, 15.64, 13.19, 12.96, 11.30, 9.84,
            9.64, 7.38, 7.44, 7.16, 7.10, 5.70, 4.79, 5.67, 4.37, 4.22, 3.80, 3.13,
            3.21, 0.69, 0.74, 1.41, 0.20, 1.07, 0.52, 0.05, -0.03, -0.96, -1.37, -2.04,
            -3.20, -2.80, -4.54, -4.66, -4.62, -5.15, -5.41, -5.81, -6.77, -7.16, -7.90, -8.58,
            -8.99, -10.10, -10.46, -11.20, -11.71, -11.85, -12.37, -12.84, -13.24, -13.84, -14.17, -14.55,
            -15.03, -15.71, -16.44, -18.01,
        ),
        scale=(
            10.13, 7.86, 6.40, 5.93, 5.53, 5.55, 5.47, 5.54, 5.51, 5.14, 5.05, 5.10,
            4.73, 4.37, 4.45, 4.13, 4.68, 4.56, 4.48, 4.41, 4.06, 4.08, 4.27, 4.00,
            4.18, 3.55, 3.15, 3.80, 3.44, 3.70, 3.55, 3.57, 3.33, 3.22, 3.19, 3.30,
            3.24, 3.38, 3.20, 3.20, 3.32, 3.19, 3.20, 3.22, 3.42, 3.49, 3.71, 3.97,
            4.03, 4.18, 4.20, 4.35, 4.42, 4.67, 4.63, 4.83, 4.75, 4.89, 4.92, 4.99,
            4.97, 5.09, 5.27, 5.17,
        ),
    ),
    Group(
        "mel_std",
        N_MELS,
        centre=(
            7.75, 6.41, 6.14, 6.19, 5.85, 5.96, 6.28, 6.41, 6.87, 7.06, 6.83, 6.96,
            7.28, 7.09, 7.44, 7.35, 7.65, 7.51, 7.47, 7.42, 7.44, 7.35, 7.58, 6.92,
            7.26, 7.10, 6.92, 7.10, 6.87, 7.13, 6.94, 6.92, 6.70, 6.82, 6.54, 6.76,
            6.49, 6.55, 6.57, 6.61, 6.45, 6.58, 6.66, 6.40, 6.36, 6.34, 6.31, 6.27,
            6.28, 6.21, 6.18, 6.05, 6.08, 6.00, 5.94, 5.90, 5.83, 5.84, 5.84, 5.64,
            5.53, 5.30, 5.05, 4.28,
        ),
        scale=(
            4.56, 4.81, 3.93, 3.52, 3.34, 3.02, 2.93, 2.76, 2.59, 2.72, 2.72, 2.76,
            2.90, 2.68, 2.80, 2.57, 2.70, 2.38, 2.57, 2.52, 2.54, 2.50, 2.56, 2.32,
            2.42, 2.23, 2.23, 2.45, 2.24, 2.33, 2.36, 2.30, 2.28, 2.18, 2.20, 2.24,
            2.12, 2.10, 1.99, 2.12, 2.11, 2.14, 2.11, 2.21, 2.28, 2.23, 2.23, 2.27,
            2.30, 2.38, 2.42, 2.40, 2.44, 2.54, 2.54, 2.61, 2.63, 2.70, 2.75, 2.81,
            2.85, 2.82, 2.88, 2.82,
        ),
    ),
    Group(
        "mfcc_mean",
        N_MFCC - 1,
        centre=(
            83.63, 6.92, 17.33, 6.67, 6.31, 1.57, 2.85, 0.44, 1.58, -1.52, 1.65, 0.87,
            0.96, -0.31, 0.72, -0.04, 0.95, -0.40, 0.03,
        ),
        scale=(
            22.33, 16.16, 9.10, 7.45, 6.69, 5.17, 5.39, 4.73, 4.52, 4.19, 4.01, 3.39,
            3.51, 3.29, 3.13, 2.61, 2.71, 3.08, 3.26,
        ),
    ),
    Group(
        "mfcc_std",
        N_MFCC,
        centre=(
            32.93, 15.98, 12.33, 8.91, 7.56, 6.63, 6.20, 6.01, 5.78, 5.71, 5.52, 5.48,
            5.59, 5.45, 5.23, 5.09, 5.15, 5.23, 5.32, 5.59,
        ),
        scale=(
            13.81, 6.56, 4.91, 3.16, 2.30, 2.10, 2.16, 2.01, 1.95, 1.90, 2.16, 2.27,
            2.14, 2.16, 2.03, 1.74, 1.79, 1.83, 2.01, 2.33,
        ),
    ),
    Group("chroma", 12, centre=(0.271,), scale=(0.150,)),
    Group(
        "contrast",
        14,
        centre=(
            39.14, 32.28, 39.89, 43.48, 38.41, 32.72, 25.64, 9.12, 8.12, 8.50, 8.20, 6.59,
            5.82, 6.34,
        ),
        scale=(
            6.39, 5.38, 6.77, 7.40, 7.34, 7.19, 9.38, 1.78, 1.46, 1.72, 2.17, 2.53,
            2.78, 3.10,
        ),
    ),
    Group(
        "rhythm",
        4,
        centre=(
            1.04, 1.39, -0.05, 0.59,
        ),
        scale=(
            0.37, 0.85, 0.43, 0.18,
        ),
    ),
)
# fmt: on
DIM = sum(group.dim for group in GROUPS)


def chroma_filterbank(sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT) -> np.ndarray:
    """(n_fft // 2 + 1, 12) weights of each STFT bin for each pitch class (C = 0): a triangle in semitones,
    1 at the pitch class and 0 a semitone either side."""
    bins_hz = bin_frequencies(sample_rate, n_fft)
    low, high = CHROMA_RANGE_HZ
    inside = (bins_hz >= low) & (bins_hz <= high)
    semitones = 12 * np.log2(np.maximum(bins_hz, 1e-10) / 440.0) + 9  # relative to C
    distance = (semitones[:, None] - np.arange(12)[None, :] + 6) % 12 - 6
    return np.maximum(0.0, 1.0 - np.abs(distance)) * inside[:, None]


FRONT_END = Spectrogram(sample_rate=SAMPLE_RATE, n_fft=N_FFT, hop=HOP, n_mels=N_MELS)
_CHROMA = chroma_filterbank()
_DCT = dct_matrix(N_MELS, N_MFCC)
_ONSET_SMOOTHING = np.hanning(7)[1:-1] / np.hanning(7)[1:-1].sum()
_CONTRAST_BANDS = [
    np.flatnonzero((FRONT_END.bins_hz >= low) & (FRONT_END.bins_hz <= high))
    for low, high in zip(CONTRAST_EDGES_HZ[:-1], CONTRAST_EDGES_HZ[1:])
]


def power_spectrogram(waveform: np.ndarray) -> np.ndarray:
    """(frames, N_FFT // 2 + 1) float64 |STFT|², frames centred on multiples of HOP (see embedding.dsp)."""
    return FRONT_END.power(waveform)


def _db(power: np.ndarray, floor_db: float) -> np.ndarray:
    return np.maximum(10 * np.log10(np.maximum(power, 1e-20)), floor_db)


def clip_features(waveform: np.ndarray) -> dict[str, np.ndarray]:
    """Raw, unstandardised features of one mono clip at SAMPLE_RATE, by group name."""
    power = power_spectrogram(waveform)  # (frames, bins)
    peak_db = 10 * np.log10(max(float(power.max()), 1e-20))
    floor_db = peak_db - TOP_DB

    mel_db = _db(power @ FRONT_END.mel_basis, floor_db)  # (frames, N_MELS)
    band_mean = mel_db.mean(axis=0)
    mfcc = mel_db @ _DCT  # (frames, N_MFCC)

    chroma = power @ _CHROMA
    chroma /= np.maximum(chroma.max(axis=1, keepdims=True), 1e-20)

    # In dB, |X| and |X|² give the same levels (20·log10|X| = 10·log10|X|²), so the power serves.
    bin_db = _db(power, floor_db)
    contrast = np.stack([_band_contrast(bin_db[:, band]) for band in _CONTRAST_BANDS], axis=1)

    return {
        "mel_mean": band_mean - band_mean.mean(),
        "mel_std": mel_db.std(axis=0),
        "mfcc_mean": mfcc[:, 1:].mean(axis=0),
        "mfcc_std": mfcc.std(axis=0),
        "chroma": chroma.mean(axis=0),
        "contrast": np.concatenate([contrast.mean(axis=0), contrast.std(axis=0)]),
        "rhythm": _rhythm(mel_db),
    }


def _band_contrast(levels_db: np.ndarray) -> np.ndarray:
    """Peak minus valley level per frame: the mean of the loudest and quietest 2% of the band's bins."""
    count = max(1, int(round(CONTRAST_QUANTILE * levels_db.shape[1])))
    ordered = np.sort(levels_db, axis=1)
    return ordered[:, -count:].mean(axis=1) - ordered[:, :count].mean(axis=1)


def _rhythm(mel_db: np.ndarray) -> np.ndarray:
    onset = np.maximum(np.diff(mel_db, axis=0), 0.0).mean(axis=1) if len(mel_db) > 1 else np.zeros(1)
    tempo_octaves, clarity = _tempo(onset, FRONT_END.frame_rate)
    return np.array([onset.mean(), onset.std(), tempo_octaves, clarity])


def _tempo(onset: np.ndarray, frame_rate: float) -> tuple[float, float]:
    """(log2(BPM / 120), normalised autocorrelation at that period) of an onset-strength curve.

    A curve with no variation (a steady tone), or one too short to hold two periods of 40 BPM (about 3 s), has
    no tempo: (0, 0), the prior's centre and no pulse.
    """
    slowest, fastest = TEMPO_RANGE_BPM
    max_lag = int(np.ceil(60.0 * frame_rate / slowest)) + 1
    # Synthetic and electronic drums give one-frame onset spikes, and a beat period is rarely a whole number
    # of frames, so the autocorrelation's peaks would fall between lags; smoothing over five frames (0.12 s)
    # widens them.
    smoothed = np.convolve(onset, _ONSET_SMOOTHING, mode="same")
    centred = smoothed - smoothed.mean()
    energy = float(np.dot(centred, centred))
    if len(onset) < 2 * max_lag or energy <= 1e-12 * len(onset):
        return 0.0, 0.0
    size = 1 << int(np.ceil(np.log2(2 * len(centred))))
    spectrum = np.fft.rfft(centred, size)
    autocorrelation = np.fft.irfft(spectrum.real**2 + spectrum.imag**2, size)[: max_lag + 2] / energy

    lags = np.arange(len(autocorrelation), dtype=np.float64)
    with np.errstate(divide="ignore"):
        bpm = 60.0 * frame_rate / lags
    valid = (bpm >= slowest) & (bpm <= fastest)
    octaves = np.log2(np.where(valid, bpm, TEMPO_PRIOR_BPM) / TEMPO_PRIOR_BPM)
    prior = np.exp(-0.5 * (octaves / TEMPO_PRIOR_OCTAVES) ** 2)
    score = np.where(valid, np.maximum(autocorrelation, 0.0) * prior, -np.inf)
    best = int(np.argmax(score))
    if not np.isfinite(score[best]) or score[best] <= 0:
        return 0.0, 0.0

    lag = float(best)
    if 0 < best < len(autocorrelation) - 1:
        lag += parabolic_peak_offset(*autocorrelation[best - 1 : best + 2])
    return float(np.log2(60.0 * frame_rate / lag / TEMPO_PRIOR_BPM)), float(autocorrelation[best])


def parabolic_peak_offset(left: float, centre: float, right: float) -> float:
    """Where between its neighbours a sampled peak really lies, in samples from the centre, within ±0.5.

    The tempo peak is chosen on the prior-weighted score, so the autocorrelation itself may still be rising
    there: its parabola's vertex can then lie far beyond a neighbour, even at a lag of zero or below.
    Between the neighbours is all the parabola may claim.
    """
    curvature = left - 2 * centre + right
    if curvature >= 0:
        return 0.0
    return float(np.clip(0.5 * (left - right) / curvature, -0.5, 0.5))


def standardise(features: dict[str, np.ndarray]) -> np.ndarray:
    """One unit vector from a clip's raw features (see the module docstring for the constants)."""
    parts = []
    for group in GROUPS:
        z = (features[group.name] - np.asarray(group.centre)) / np.asarray(group.scale)
        parts.append(Z_LIMIT * np.tanh(z / Z_LIMIT) / np.sqrt(group.dim))
    return l2_normalise(np.concatenate(parts)[None, :])[0]


class SpectralEmbedder:
    name = "spectral"
    dim = DIM
    sample_rate = SAMPLE_RATE
    weights_sha256 = ""

    def __init__(self):
        self.settings = {
            "sample_rate": SAMPLE_RATE,
            "stft": {"n_fft": N_FFT, "hop": HOP, "window": "hann", "center": "reflect"},
            "mel": {"bands": N_MELS, "scale": "slaney", "norm": "slaney", "top_db": TOP_DB},
            "mfcc": N_MFCC,
            "chroma_hz": list(CHROMA_RANGE_HZ),
            "contrast_edges_hz": list(CONTRAST_EDGES_HZ),
            "tempo_bpm": list(TEMPO_RANGE_BPM),
            "groups": {group.name: group.dim for group in GROUPS},
            "pooling": "mean and std over the whole clip",
            "standardisation": "fixed per-feature centres and scales, 3*tanh(z/3), groups weighted 1/sqrt(size), L2",
        }

    def embed(self, waveforms: list[np.ndarray]) -> EmbeddingBatch:
        vectors = np.zeros((len(waveforms), DIM), dtype=np.float32)
        for row, waveform in enumerate(waveforms):
            vectors[row] = standardise(clip_features(waveform))
        return EmbeddingBatch(vectors=vectors, tags=[])


def load_embedder(device=None, **ignored) -> SpectralEmbedder:
    """The spectral model; `device` is accepted for the registry's sake and ignored (it runs on the CPU)."""
    return SpectralEmbedder()
