import time

import numpy as np
import pytest

from embedding.base import EmbeddingBatch, load_embedder
from embedding.dsp import dct_matrix
from embedding.spectral import DIM, FRONT_END, N_MELS, N_MFCC, SAMPLE_RATE, clip_features
from tests import audio_samples as samples
from tracks.audio import decode


@pytest.fixture(scope="module")
def model():
    return load_embedder("spectral")


def embed(model, *waveforms):
    return model.embed(list(waveforms)).vectors


def test_the_registry_builds_it_with_its_declared_shape(model):
    assert model.name == "spectral"
    assert model.dim == DIM == 197
    assert model.sample_rate == SAMPLE_RATE == 22050
    assert model.weights_sha256 == ""
    assert sum(model.settings["groups"].values()) == model.dim


def test_it_returns_one_unit_vector_per_clip_and_no_tags(model):
    clips = [samples.music(5.0, SAMPLE_RATE), samples.noise(2.0, SAMPLE_RATE), samples.tone(1.0, SAMPLE_RATE)]

    batch = model.embed(clips)

    assert isinstance(batch, EmbeddingBatch)
    assert batch.vectors.shape == (3, model.dim)
    assert batch.vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batch.vectors, axis=1), 1.0, atol=1e-5)
    assert batch.tags == []


def test_it_is_deterministic_and_independent_of_the_batch(model):
    music = samples.music(5.0, SAMPLE_RATE)

    alone = embed(model, music)
    batched = embed(model, samples.noise(3.0, SAMPLE_RATE), music)

    np.testing.assert_array_equal(alone[0], embed(model, music)[0])
    np.testing.assert_allclose(alone[0], batched[1], atol=1e-6)


def test_a_tone_noise_drums_and_music_are_far_apart(model):
    tone, noise, drums, music = embed(
        model,
        samples.tone(10.0, SAMPLE_RATE),
        samples.noise(10.0, SAMPLE_RATE),
        samples.beat(10.0, SAMPLE_RATE),
        samples.music(10.0, SAMPLE_RATE),
    )

    # Random pairs of real tracks score between -0.38 and 0.48 (5th to 95th percentile); tone and noise share
    # the absence of rhythm and of change, which is why they are the closest pair here.
    assert tone @ noise < 0.6
    for a, b in [(tone, drums), (noise, drums), (tone, music), (noise, music), (drums, music)]:
        assert a @ b < 0.2


@pytest.mark.parametrize("signal", [samples.music, samples.beat, samples.noise])
def test_a_quieter_copy_is_almost_the_same_vector(model, signal):
    clip = signal(10.0, SAMPLE_RATE)

    loud, quiet, much_quieter = embed(model, clip, clip * 10 ** (-6 / 20), clip * 10 ** (-30 / 20))

    assert loud @ quiet > 0.9999
    assert loud @ much_quieter > 0.999


@pytest.mark.parametrize(("codec", "rate"), [("flac", 44100), ("mp3", 48000), ("flac", 96000)])
def test_a_resampled_and_encoded_copy_stays_very_close(model, tmp_path, codec, rate):
    if not samples.codec_available(codec):
        pytest.skip(f"This PyAV build cannot encode {codec}.")
    path = samples.write_clip(tmp_path / f"music.{codec}", seconds=10.0, sample_rate=rate, codec=codec)

    direct, decoded = embed(model, samples.music(10.0, SAMPLE_RATE), decode(path, SAMPLE_RATE).samples)

    assert direct @ decoded > 0.998


def test_it_hears_the_tempo_of_music(model):
    for bpm in (70, 100, 128, 160):
        tempo_octaves = clip_features(samples.music(20.0, SAMPLE_RATE, bpm=bpm))["rhythm"][2]
        assert 120 * 2**tempo_octaves == pytest.approx(bpm, rel=0.02)


def test_different_tempi_move_the_vector_a_little(model):
    slow, fast = embed(model, samples.music(20.0, SAMPLE_RATE, bpm=90), samples.music(20.0, SAMPLE_RATE, bpm=120))

    assert 0.9 < slow @ fast < 0.995


def test_short_silent_and_odd_clips_still_give_finite_unit_vectors(model):
    clips = [np.zeros(SAMPLE_RATE, np.float32), np.zeros(10, np.float32), samples.tone(0.05, SAMPLE_RATE),
             np.ones(SAMPLE_RATE, np.float32)]

    vectors = embed(model, *clips)

    assert np.isfinite(vectors).all()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_an_empty_batch_gives_an_empty_array(model):
    assert model.embed([]).vectors.shape == (0, model.dim)


def test_the_filterbanks_match_their_definitions():
    mel = FRONT_END.mel_basis
    assert mel.shape == (1025, N_MELS)
    bin_hz = SAMPLE_RATE / 2048
    # Slaney normalisation gives every triangle unit area in Hz.
    np.testing.assert_allclose(mel.sum(axis=0) * bin_hz, 1.0, rtol=0.05)
    dct = dct_matrix(N_MELS, N_MFCC)
    np.testing.assert_allclose(dct.T @ dct, np.eye(dct.shape[1]), atol=1e-10)


def test_a_30_s_clip_embeds_in_well_under_a_second(model):
    clip = samples.music(30.0, SAMPLE_RATE)
    embed(model, clip)

    started = time.perf_counter()
    embed(model, clip)

    assert time.perf_counter() - started < 0.5


def test_the_tempo_is_finite_and_in_range_for_any_onset_curve():
    from embedding.spectral import HOP, SAMPLE_RATE, TEMPO_RANGE_BPM, _tempo

    rng = np.random.default_rng(0)
    slowest, fastest = TEMPO_RANGE_BPM
    frame_rate = SAMPLE_RATE / HOP
    for trial in range(400):
        frames = int(rng.integers(300, 1500))
        period = rng.uniform(2, 60)
        phase = np.arange(frames) % period
        onset = np.abs(rng.normal(size=frames)) * rng.uniform(0, 1) + (phase < rng.uniform(0.5, 3)) * rng.uniform(0, 5)
        octaves, clarity = _tempo(onset, frame_rate)
        assert np.isfinite(octaves) and np.isfinite(clarity), trial
        if clarity:
            assert slowest * 0.9 <= 120 * 2**octaves <= fastest * 1.1, (trial, 120 * 2**octaves)


@pytest.mark.parametrize(
    "left, centre, right, expected",
    [
        (0.5, 1.0, 0.5, 0.0),  # symmetric: the sample is the peak
        (0.8, 1.0, 0.4, -0.25),  # the higher neighbour pulls the peak towards it
        (1.0, 1.0 + 1e-9, 1.0 + 2e-9 - 1e-12, 0.5),  # still rising: a vertex far away, clamped to the neighbour
        (0.2, 0.1, 0.3, 0.0),  # a dip, not a peak
    ],
)
def test_a_peak_is_placed_between_its_neighbours_and_never_beyond(left, centre, right, expected):
    from embedding.spectral import parabolic_peak_offset

    assert parabolic_peak_offset(left, centre, right) == pytest.approx(expected, abs=1e-6)
