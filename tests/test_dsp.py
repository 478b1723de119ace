"""The shared spectrogram front end (embedding.dsp): its pieces against their definitions, and both models'
outputs against what their own front ends computed before they shared one.

tests/data/dsp_reference.npz was written by the code as it stood before embedding/dsp.py existed (each model
with its own STFT, window, Slaney scale and filterbank), from a 4-s clip of tests.audio_samples.music encoded
as mono FLAC at each model's rate and decoded by tracks.audio. FLAC at the model's own rate, so decoding involves
no lossy encoder and no resampler whose output could change with the FFmpeg build: the test measures the front
end, not the decoder. It holds a few frames of each model's mel spectrogram, spectral's raw features and both
models' vectors (10 KB).
"""

import hashlib
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from embedding import dsp, musicnn, spectral
from embedding.base import ModelUnavailable
from tests import audio_samples
from tracks.audio import decode

REFERENCE = np.load(Path(__file__).parent / "data" / "dsp_reference.npz")


def decoded_reference_clip(tmp_path, rate: int) -> np.ndarray:
    seconds = float(REFERENCE["seconds"])
    path = audio_samples.write_clip(
        tmp_path / f"music_{rate}.flac", seconds=seconds, sample_rate=rate, channels=1, codec="flac",
        signal=audio_samples.music,
    )
    samples = decode(path, rate, windows=None).samples
    # If this fails, the clip's recipe or the decoder changed, not the front end.
    assert hashlib.sha256(samples.tobytes()).hexdigest() == str(REFERENCE[f"waveform_sha256_{rate}"])
    return samples


# --- both models against the previous front ends ------------------------------------------------------------


def test_musicnn_log_mel_of_a_decoded_clip_is_what_it_was(tmp_path):
    clip = decoded_reference_clip(tmp_path, musicnn.SAMPLE_RATE)

    frames = musicnn.log_mel(clip)  # (frames, 96) float32

    assert len(frames) == int(REFERENCE["musicnn_n_frames"])
    np.testing.assert_allclose(frames[REFERENCE["musicnn_rows"]], REFERENCE["musicnn_log_mel_rows"], rtol=0, atol=1e-6)


def test_musicnn_vector_of_a_decoded_clip_is_what_it_was(tmp_path):
    clip = decoded_reference_clip(tmp_path, musicnn.SAMPLE_RATE)
    try:
        embedder = musicnn.load_embedder(device="cpu")
    except ModelUnavailable as error:
        pytest.skip(str(error))

    vector = embedder.embed([clip]).vectors[0]

    np.testing.assert_allclose(vector, REFERENCE["musicnn_vector"], rtol=0, atol=1e-6)


def test_spectral_mel_spectrogram_features_and_vector_of_a_decoded_clip_are_what_they_were(tmp_path):
    clip = decoded_reference_clip(tmp_path, spectral.SAMPLE_RATE)

    mel = spectral.power_spectrogram(clip) @ spectral.FRONT_END.mel_basis  # (frames, 64)
    mel_db = 10 * np.log10(np.maximum(mel, 1e-20))
    features = spectral.clip_features(clip)
    vector = spectral.load_embedder().embed([clip]).vectors[0]

    assert len(mel) == int(REFERENCE["spectral_n_frames"])
    np.testing.assert_allclose(mel_db[REFERENCE["spectral_rows"]], REFERENCE["spectral_mel_db_rows"], rtol=0, atol=1e-6)
    flat = np.concatenate([features[group.name] for group in spectral.GROUPS])
    np.testing.assert_allclose(flat, REFERENCE["spectral_features"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(vector, REFERENCE["spectral_vector"], rtol=0, atol=1e-6)


# --- the Slaney mel scale ------------------------------------------------------------------------------------


def test_the_slaney_scale_is_linear_to_1_khz_and_logarithmic_above():
    # librosa's documented examples (60 Hz is 0.9 mel; 110, 220, 440 Hz are 1.65, 3.3, 6.6), then the break
    # at 1 kHz = 15 mels and 27 mels per factor of 6.4 above it.
    hz = np.array([60.0, 110.0, 220.0, 440.0, 0.0, 1000.0, 6400.0, 6400.0 * 6.4])
    np.testing.assert_allclose(dsp.hz_to_mel(hz), [0.9, 1.65, 3.3, 6.6, 0.0, 15.0, 42.0, 69.0], rtol=0, atol=1e-12)
    assert dsp.hz_to_mel(8000.0) == pytest.approx(15 + 27 * math.log(8) / math.log(6.4), abs=1e-12)


def test_mels_and_hertz_round_trip_and_meet_at_the_break():
    hz = np.concatenate([np.linspace(0, 2000, 2001), np.geomspace(2000, 24000, 500)])
    np.testing.assert_allclose(dsp.mel_to_hz(dsp.hz_to_mel(hz)), hz, rtol=1e-12, atol=1e-9)
    mel = np.linspace(0, 60, 601)
    np.testing.assert_allclose(dsp.hz_to_mel(dsp.mel_to_hz(mel)), mel, rtol=0, atol=1e-12)
    below, above = dsp.hz_to_mel([999.999999, 1000.000001])
    assert abs(above - below) < 1e-6  # continuous where the linear part hands over to the logarithmic one


# --- filterbank, window, STFT, DCT ------------------------------------------------------------------------


@pytest.mark.parametrize(("sample_rate", "n_fft", "n_mels"), [(16000, 512, 96), (22050, 2048, 64)])
def test_each_slaney_triangle_has_unit_area_and_its_peak_at_its_centre(sample_rate, n_fft, n_mels):
    # A triangle of base b and height 2/b has area 1. Sampled at the rfft bins, the area is close to 1 once the
    # triangle spans a few bins; on a fine grid the filterbank's own normalisation shows exactly.
    fine = dsp.mel_filterbank(sample_rate, 64 * n_fft, n_mels)  # (bins, mels)
    bin_hz = sample_rate / (64 * n_fft)
    np.testing.assert_allclose(fine.sum(axis=0) * bin_hz, 1.0, rtol=1e-3)

    bank = dsp.mel_filterbank(sample_rate, n_fft, n_mels)
    assert bank.shape == (n_fft // 2 + 1, n_mels)
    edges = dsp.mel_to_hz(np.linspace(0, dsp.hz_to_mel(sample_rate / 2), n_mels + 2))
    peaks = dsp.bin_frequencies(sample_rate, 64 * n_fft)[fine.argmax(axis=0)]
    np.testing.assert_allclose(peaks, edges[1:-1], atol=bin_hz)
    # Height 2 / base, less what the nearest grid point (within a bin of the apex) loses on the steeper side.
    height = 2 / (edges[2:] - edges[:-2])
    steeper = np.minimum(edges[1:-1] - edges[:-2], edges[2:] - edges[1:-1])
    assert np.all(fine.max(axis=0) <= height * (1 + 1e-12))
    assert np.all(fine.max(axis=0) >= height * (1 - bin_hz / steeper))


def test_unnormalised_triangles_peak_at_one_and_sum_to_one_between_the_outer_centres():
    fine = dsp.mel_filterbank(22050, 64 * 2048, 64, norm=None)
    np.testing.assert_allclose(fine.max(axis=0), 1.0, atol=0.01)  # the grid comes within 0.2 Hz of each centre
    bank = dsp.mel_filterbank(22050, 2048, 64, norm=None)
    hz = dsp.bin_frequencies(22050, 2048)
    edges = dsp.mel_to_hz(np.linspace(0, dsp.hz_to_mel(11025), 66))
    inside = (hz >= edges[1]) & (hz <= edges[-2])
    np.testing.assert_allclose(bank[inside].sum(axis=1), 1.0, atol=1e-12)
    with pytest.raises(ValueError, match="norm must be"):
        dsp.mel_filterbank(22050, 2048, 64, norm="htk")


def test_the_periodic_hann_window_is_one_period_and_overlaps_to_a_constant():
    np.testing.assert_allclose(dsp.hann_window(512), np.hanning(513)[:-1], atol=1e-15)
    np.testing.assert_allclose(dsp.hann_window(7, periodic=False), np.hanning(7), atol=1e-15)
    window = dsp.hann_window(512)
    np.testing.assert_allclose(window[:256] + window[256:], 1.0, atol=1e-15)  # hop n/2 sums to 1


def test_the_stft_is_torch_stft_with_centred_reflect_padded_frames():
    rng = np.random.default_rng(0)
    signal = rng.standard_normal(16000 + 123)
    front = dsp.Spectrogram(sample_rate=16000, n_fft=512, hop=256, n_mels=96)

    ours = front.stft(signal)
    theirs = torch.stft(
        torch.from_numpy(signal), 512, hop_length=256, window=torch.hann_window(512, dtype=torch.float64),
        center=True, pad_mode="reflect", return_complex=True,
    ).T.numpy()

    assert ours.shape == theirs.shape == (front.n_frames(len(signal)), front.n_bins) == (63, 257)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)
    np.testing.assert_allclose(front.power(signal), np.abs(theirs) ** 2, rtol=1e-12, atol=1e-9)


def test_frame_t_is_centred_on_sample_t_times_the_hop():
    signal = np.zeros(4096)
    signal[5 * 512] = 1.0
    frames = dsp.centred_frames(signal, 2048, 512)
    assert frames.shape == (9, 2048)
    assert frames[5, 1024] == 1.0 and frames[5].sum() == 1.0


def test_a_clip_shorter_than_half_a_frame_is_padded_with_silence_first():
    front = dsp.Spectrogram(sample_rate=22050, n_fft=2048, hop=512, n_mels=64)
    for length in (0, 1, 10, 1024):
        power = front.power(np.full(length, 0.1))
        assert power.shape == (front.n_frames(max(length, 1025)), 1025)
        assert np.isfinite(power).all()
    with pytest.raises(ValueError, match="mono"):
        front.stft(np.zeros((2, 4096)))


def test_the_dct_is_orthonormal_and_its_first_coefficient_is_the_scaled_mean():
    basis = dsp.dct_matrix(64, 20)
    np.testing.assert_allclose(basis.T @ basis, np.eye(20), atol=1e-12)
    x = np.random.default_rng(1).standard_normal(64)
    assert (x @ basis)[0] == pytest.approx(x.sum() / np.sqrt(64))
    full = dsp.dct_matrix(8, 8)
    np.testing.assert_allclose(full @ full.T, np.eye(8), atol=1e-12)  # square: an orthogonal matrix
