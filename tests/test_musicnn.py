"""MSD_musicnn: preprocessing, the port's wiring, the fast path against the straight port, the embedder contract.

There is no TensorFlow to compare with, so the wiring is checked against what the checkpoint itself recorded:
the per-channel mean of every batch norm's input during training. Audio is synthesised here.
"""

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from embedding.base import ModelUnavailable
from embedding.musicnn import (
    MSD_LABELS,
    PATCH_FRAMES,
    SAMPLE_RATE,
    SEGMENT_DIM,
    clip_patches,
    load_embedder,
    load_musicnn,
    log_mel,
    mel_filterbank,
)
from embedding.musicnn_network import FastMusicnn


def _tone(freq, seconds, rolloff, decay, rng):
    """A harmonic note: partials at 1/k**rolloff, a 10-ms attack and an exponential decay."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    partials = [k for k in range(1, 12) if k * freq < 7500]
    wave = sum(np.sin(2 * np.pi * k * freq * t + rng.uniform(0, 2 * np.pi)) / k**rolloff for k in partials)
    return wave * np.minimum(1, t / 0.01) * np.exp(-t * decay)


def _add(track, sound, at_seconds):
    start = int(at_seconds * SAMPLE_RATE)
    end = min(len(track), start + len(sound))
    if start < end:
        track[start:end] += sound[: end - start]


def _normalised(y, peak=0.5):
    return (peak * y / np.max(np.abs(y))).astype(np.float32)


def drum_machine(seconds, rng, bpm=128, bass=True):
    """Four-on-the-floor kick, backbeat snare, off-beat hi-hats and (optionally) a house bass on the off-beats."""
    track = np.zeros(int(seconds * SAMPLE_RATE))
    sixteenth = 60 / bpm / 4
    t = np.arange(4000) / SAMPLE_RATE
    kick = np.sin(2 * np.pi * (45 * t + 4 * (1 - np.exp(-30 * t)))) * np.exp(-10 * t)
    for step in range(int(seconds / sixteenth)):
        at = step * sixteenth
        if step % 4 == 0:
            _add(track, 0.9 * kick, at)
        if step % 8 == 4:
            noise = rng.standard_normal(t.size) * np.exp(-22 * t)
            _add(track, 0.5 * noise + 0.3 * np.sin(2 * np.pi * 190 * t) * np.exp(-30 * t), at)
        if step % 2 == 1:
            _add(track, 0.2 * np.diff(rng.standard_normal(t.size + 1)) * np.exp(-60 * t), at)
        if bass and step % 4 == 2:
            _add(track, 0.35 * _tone([55, 55, 65.4, 49][(step // 16) % 4], 0.12, 0.5, 15, rng), at)
    return _normalised(track)


def voice(seconds, rng, f0):
    """A sung line: glottal pulses shaped by three vowel formants, with vibrato."""
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    notes = f0 * 2 ** (rng.choice([0, 2, 4, 5, 7, 9], size=int(seconds * 2) + 1) / 12)
    pitch = notes[(t * 2).astype(int)] * (1 + 0.01 * np.sin(2 * np.pi * 5 * t))
    pulses = (np.cumsum(pitch) / SAMPLE_RATE % 1.0) ** 3 - 0.25
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    vowel = [(700, 90, 1), (1200, 110, 0.6), (2600, 160, 0.3)]  # (centre Hz, width Hz, gain)
    formants = sum(gain * np.exp(-0.5 * ((freqs - centre) / width) ** 2) for centre, width, gain in vowel)
    return _normalised(np.fft.irfft(np.fft.rfft(pulses) * formants, n))


def song(seconds, rng, bpm, f0):
    """A pop song in miniature: a I-V-vi-IV piano, bass on the beat, a melody, drums and a voice."""
    track = np.zeros(int(seconds * SAMPLE_RATE))
    beat, key = 60 / bpm, rng.uniform(200, 300)
    semitones = [0, 2, 4, 5, 7, 9, 11, 12, 14, 16]
    for bar in range(int(np.ceil(seconds / (4 * beat)))):
        chord = [[0, 2, 4], [4, 6, 8], [5, 7, 9], [3, 5, 7]][bar % 4]
        for degree in chord:
            _add(track, 0.12 * _tone(key * 2 ** (semitones[degree] / 12), 4 * beat, 1.3, 1.5, rng), 4 * bar * beat)
        for q in range(4):
            bass = key * 2 ** (semitones[chord[0]] / 12) / 4
            _add(track, 0.25 * _tone(bass, beat, 0.9, 4, rng), (4 * bar + q) * beat)
    for eighth in range(int(2 * seconds / beat)):
        if rng.random() < 0.75:
            note = 2 * key * 2 ** (rng.choice(semitones[:8]) / 12)
            _add(track, 0.15 * _tone(note, 0.75 * beat, 1.6, 3, rng), eighth * beat / 2)
    track = _normalised(track) + drum_machine(seconds, rng, bpm, bass=False)
    return _normalised(_normalised(track) + 0.5 * voice(seconds, rng, f0) + 0.003 * rng.standard_normal(track.size))


@pytest.fixture(scope="module")
def reference_model():
    model, _ = load_musicnn()
    return model


@pytest.fixture(scope="module")
def song_patches():
    """Six patches from three songs at different tempi and pitches (the MSD is mostly songs with vocals)."""
    rng = np.random.default_rng(0)
    clips = [song(6.1, rng, bpm, f0) for bpm, f0 in [(96, 220), (124, 180), (76, 300)]]
    return torch.from_numpy(np.concatenate([clip_patches(clip) for clip in clips]))


@pytest.fixture(scope="module")
def reference_run(reference_model, song_patches):
    bn_inputs = {}
    with torch.inference_mode():
        penultimate, logits = reference_model(song_patches, bn_inputs)
    return penultimate, logits, bn_inputs


@pytest.fixture(scope="module")
def embedder():
    return load_embedder(device="cpu", batch_size=16)


def _channel_means(activation: torch.Tensor) -> np.ndarray:
    return activation.double().mean(dim=[d for d in range(activation.ndim) if d != 1]).numpy()


def test_the_mel_filterbank_is_slaney_scaled_and_area_normalised():
    bank = mel_filterbank()
    assert bank.shape == (96, 257)
    assert bank.max() == pytest.approx(0.032, abs=1e-4)
    bin_hz = SAMPLE_RATE / 512
    assert np.allclose(bank.sum(axis=1) * bin_hz, 1, atol=0.08)  # each triangle has unit area
    centres = bank.argmax(axis=1) * bin_hz
    assert np.all(np.diff(centres) >= 0)
    assert np.diff(centres)[:10].max() <= 2 * bin_hz  # linear spacing below 1 kHz...
    assert np.diff(centres)[-5:].min() >= 5 * bin_hz  # ...logarithmic above


def test_a_clip_gives_one_frame_per_hop_and_drops_the_incomplete_last_patch():
    thirty_seconds = np.zeros(30 * SAMPLE_RATE, dtype=np.float32)
    assert log_mel(thirty_seconds).shape == (1876, 96)
    patches = clip_patches(thirty_seconds)
    assert patches.shape == (10, PATCH_FRAMES, 96)
    assert not patches.any()  # silence is log10(1) = 0


def test_the_log_mel_rounds_through_float16_without_overflowing():
    t = np.arange(3 * SAMPLE_RATE) / SAMPLE_RATE
    sine = (0.99 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    ours = log_mel(sine)
    assert np.isfinite(ours).all()
    # 10000 * mel in float16 (NumPy 2's rules) would overflow above log10(65504) = 4.82.
    assert ours.max() > 5.5
    padded = np.pad(sine.astype(np.float64), 256, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, 512)[::256]
    power = np.abs(np.fft.rfft(frames * np.hanning(513)[:-1], axis=1)) ** 2
    exact = np.log10(10000 * power @ mel_filterbank().T.astype(np.float64) + 1)
    assert np.abs(ours - exact).max() < 3e-4  # float16 keeps 11 significant bits
    assert np.abs(ours - exact).max() > 1e-6  # ...and the rounding really happened
    band = ours.mean(axis=0).argmax()
    assert abs(mel_filterbank()[band].argmax() * SAMPLE_RATE / 512 - 1000) < 60


def test_a_clip_shorter_than_a_patch_is_repeated_to_fill_one():
    rng = np.random.default_rng(1)
    clip = (0.1 * rng.standard_normal(int(1.5 * SAMPLE_RATE))).astype(np.float32)
    patches = clip_patches(clip)
    frames = log_mel(clip)
    assert patches.shape == (1, PATCH_FRAMES, 96)
    np.testing.assert_array_equal(patches[0, : len(frames)], frames)
    np.testing.assert_array_equal(patches[0, len(frames) :], frames[: PATCH_FRAMES - len(frames)])


def test_a_clip_under_one_second_is_refused_with_a_reason():
    with pytest.raises(ValueError, match=r"0\.50 s long; musicnn needs at least 1 s"):
        clip_patches(np.zeros(SAMPLE_RATE // 2, dtype=np.float32))


def test_integer_scaled_audio_is_refused_with_a_reason():
    with pytest.raises(ValueError, match=r"expected float samples in \[-1, 1\]"):
        clip_patches(np.full(2 * SAMPLE_RATE, 12000.0, dtype=np.float32))


def test_batch_norm_inputs_match_the_statistics_the_checkpoint_learned(reference_model, reference_run):
    _, _, bn_inputs = reference_run
    norms = [b.bn for b in [*reference_model.timbral, *reference_model.temporal, *reference_model.midend]]
    norms.append(reference_model.pool_bn)
    for i, norm in enumerate(norms, start=1):
        ours = _channel_means(bn_inputs[f"batch_normalization_{i}"])
        correlation = np.corrcoef(ours, norm.moving_mean.numpy())[0, 1]
        assert correlation >= 0.9, f"batch_normalization_{i}: correlation {correlation:.3f}"


def test_max_and_mean_pools_are_interleaved_as_tensorflow_flattened_them(reference_model, reference_run):
    _, _, bn_inputs = reference_run
    learned = reference_model.pool_bn.moving_mean.numpy()
    ours = _channel_means(bn_inputs["batch_normalization_9"])
    side_by_side = np.concatenate([ours[0::2], ours[1::2]])  # what a [max..., mean...] reading would give
    assert np.corrcoef(ours, learned)[0, 1] > np.corrcoef(side_by_side, learned)[0, 1] + 0.2


@pytest.mark.parametrize("prune", [False, True])
def test_the_fast_network_computes_the_reference_function(reference_model, song_patches, reference_run, prune):
    penultimate, logits, _ = reference_run
    fast = FastMusicnn(reference_model, prune=prune).eval()
    with torch.inference_mode():
        fast_penultimate, fast_logits = fast(song_patches)
    torch.testing.assert_close(fast_penultimate, penultimate, rtol=0, atol=1e-5)
    torch.testing.assert_close(fast_logits, logits, rtol=0, atol=1e-5)


@pytest.mark.parametrize("prune", [False, True])
def test_the_channel_means_are_the_reference_pools_means_and_only_the_firing_ones_vary(
    reference_model, song_patches, prune
):
    fast = FastMusicnn(reference_model, prune=prune).eval()
    with torch.inference_mode():
        penultimate, _, means = reference_model.forward_with_channels(song_patches)
        fast_penultimate, _, fast_means = fast.forward_with_channels(song_patches)
    torch.testing.assert_close(fast_means, means, rtol=0, atol=1e-5)
    torch.testing.assert_close(fast_penultimate, penultimate, rtol=0, atol=1e-5)
    firing = fast.firing_channels
    assert len(firing) == 256 and torch.equal(firing, FastMusicnn(reference_model, prune=not prune).firing_channels)
    spread = means.std(dim=0)  # over the song's patches
    others = torch.ones(len(spread), dtype=torch.bool)
    others[firing] = False
    assert spread[others].max() < 1e-6 < spread[firing].median()


def test_segment_features_are_the_penultimate_layer_then_the_firing_channels_means(embedder, song_patches):
    features, probabilities = embedder.forward_patches(song_patches.numpy(), channels=True)
    penultimate, same_probabilities = embedder.forward_patches(song_patches.numpy())
    assert features.shape == (len(song_patches), SEGMENT_DIM) and penultimate.shape == (len(song_patches), 200)
    np.testing.assert_array_equal(features[:, :200], penultimate)
    np.testing.assert_array_equal(probabilities, same_probabilities)
    with torch.inference_mode():
        _, _, means = embedder.network.forward_with_channels(song_patches)
    np.testing.assert_allclose(features[:, 200:], means[:, embedder.firing_channels].numpy(), rtol=0, atol=1e-6)


def test_pruning_keeps_only_the_filters_that_depend_on_the_input(reference_model):
    kept = [len(block.channels) for block in FastMusicnn(reference_model, prune=True).front]
    assert kept == [23, 14, 3, 7, 17]
    assert [len(block.channels) for block in FastMusicnn(reference_model, prune=False).front] == [204, 204, 51, 51, 51]


def test_a_drum_machine_loop_is_tagged_electronic_and_dance_not_jazz_or_folk(embedder):
    loop = drum_machine(9.5, np.random.default_rng(3))
    tags = embedder.embed([loop]).tags[0]
    assert list(tags) == MSD_LABELS
    for genre in ("electronic", "dance"):
        assert tags[genre] > 0.1
        assert tags[genre] > 10 * max(tags["jazz"], tags["folk"]), tags


def test_vectors_are_unit_length_deterministic_and_independent_of_the_batch(embedder):
    rng = np.random.default_rng(4)
    clips = [song(7.0, rng, 110, 200), drum_machine(3.5, rng), song(1.5, rng, 90, 250)]
    first = embedder.embed(clips)
    assert first.vectors.shape == (3, 200)
    assert first.vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first.vectors, axis=1), 1, atol=1e-6)
    np.testing.assert_array_equal(embedder.embed(clips).vectors, first.vectors)
    alone = embedder.embed([clips[1]])
    np.testing.assert_allclose(alone.vectors[0], first.vectors[1], atol=1e-6)
    assert alone.tags[0] == pytest.approx(first.tags[1], abs=1e-6)
    assert np.abs(first.vectors[0] - first.vectors[1]).max() > 0.05  # different music, different vectors


def test_the_same_music_six_decibels_quieter_embeds_to_the_same_vector(embedder):
    clip = song(6.1, np.random.default_rng(6), 104, 210)
    quieter = clip * np.float32(10 ** (-6 / 20))
    levelled = embedder.embed([clip, quieter]).vectors
    assert float(levelled[0] @ levelled[1]) > 0.9999
    as_decoded = load_embedder(device="cpu", input_level_dbfs=None).embed([clip, quieter]).vectors
    assert float(as_decoded[0] @ as_decoded[1]) < float(levelled[0] @ levelled[1]) - 0.005


def test_a_one_and_a_half_second_clip_embeds(embedder):
    clip = song(1.5, np.random.default_rng(5), 100, 220)
    batch = embedder.embed([clip])
    assert batch.vectors.shape == (1, 200)
    assert np.isfinite(batch.vectors).all()
    assert sum(batch.tags[0].values()) > 0


def test_the_embedder_describes_itself(embedder):
    assert (embedder.name, embedder.dim, embedder.sample_rate) == ("musicnn", 200, 16000)
    assert embedder.settings["checkpoint"] == "MSD_musicnn"
    assert embedder.settings["layer"] == "penultimate"
    assert len(embedder.weights_sha256) == 64
    assert embedder.embed([]).vectors.shape == (0, 200)


def test_a_missing_checkpoint_directory_says_what_to_install(tmp_path):
    missing = tmp_path / "MSD_musicnn"
    with pytest.raises(ModelUnavailable) as error:
        load_embedder(device="cpu", checkpoint_dir=missing)
    message = str(error.value)
    assert str(missing) in message
    assert "pip install --no-deps musicnn==0.1.0" in message


def test_a_damaged_checkpoint_is_unavailable_not_loaded(tmp_path):
    package = Path(next(iter(importlib.util.find_spec("musicnn").submodule_search_locations)))
    for suffix in (".index", ".data-00000-of-00001"):
        shutil.copyfile(package / "MSD_musicnn" / suffix, tmp_path / suffix)
    data = tmp_path / ".data-00000-of-00001"
    blob = bytearray(data.read_bytes())
    blob[1234] ^= 0x10
    data.write_bytes(bytes(blob))
    with pytest.raises(ModelUnavailable, match="not the published"):
        load_embedder(device="cpu", checkpoint_dir=tmp_path)
    with pytest.raises(ModelUnavailable, match="CRC32C"):
        load_musicnn(tmp_path, verify_sha256=False)
