import dataclasses
import hashlib
import json

import numpy as np
import pytest
import torch

from embedding import base
from embedding.base import ModelUnavailable
from embedding.musicfm import load_embedder
from embedding.musicfm_network import MusicFM, MusicFMConfig, SelfAttention

# Small enough that building, saving and running it takes milliseconds; the mel front-end keeps its real size.
TINY = MusicFMConfig(
    conv_dim=8,
    encoder_dim=64,
    encoder_depth=2,
    num_heads=4,
    intermediate_dim=128,
    pos_conv_kernel=8,
    pos_conv_groups=4,
    codebook_dim=4,
    codebook_size=32,
)
STATS = {"melspec_2048_mean": 6.768444971712967, "melspec_2048_std": 18.417922652295623, "spec_256_mean": 1.0}
SAMPLE_RATE = 24000


def random_model(config=TINY, seed=0):
    torch.manual_seed(seed)
    model = MusicFM(config)
    # Non-trivial normalisation statistics, so that a load which skipped them would change the output.
    for module in model.modules():
        if isinstance(module, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            module.running_mean.normal_(0.0, 0.1)
            module.running_var.uniform_(0.5, 1.5)
            module.num_batches_tracked.fill_(95489)
    return model.eval()


def official_state_dict(model, weight_norm="legacy"):
    """The model's weights laid out as in pretrained_msd.pt: Lightning's "model." prefix, float32 BN counters."""
    state = {}
    for key, value in model.state_dict().items():
        if key.endswith("num_batches_tracked"):
            value = value.float()
        if weight_norm == "parametrizations":
            key = key.replace("conv.weight_g", "conv.parametrizations.weight.original0")
            key = key.replace("conv.weight_v", "conv.parametrizations.weight.original1")
        state[f"model.{key}"] = value.clone()
    return state


def save_checkpoint(path, model=None, *, state=None, weight_norm="legacy"):
    state = official_state_dict(model or random_model(), weight_norm) if state is None else state
    torch.save({"state_dict": state}, path)
    return path


def save_stats(path, stats=STATS):
    path.write_text(json.dumps(stats))
    return path


def clip(seconds, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    tone = 0.3 * np.sin(2 * np.pi * 440.0 * t) + 0.2 * np.sin(2 * np.pi * 1234.5 * t)
    return (tone + 0.05 * rng.standard_normal(t.shape)).astype(np.float32)


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("musicfm")
    model = random_model()
    return model, save_checkpoint(folder / "pretrained_msd.pt", model), save_stats(folder / "msd_stats.json")


@pytest.fixture(scope="module")
def tiny_embedder(tiny_files):
    _, checkpoint, stats = tiny_files
    return load_tiny(checkpoint, stats)


def load_tiny(checkpoint, stats, layer=1):
    return load_embedder(device="cpu", checkpoint=checkpoint, stats=stats, layer=layer, config=TINY)


def official_key_table():
    """Every tensor of the published checkpoints with its shape, transcribed from the MusicFM research note."""
    table = {
        "preprocessor_melspec_2048.mel_stft.spectrogram.window": (2048,),
        "preprocessor_melspec_2048.mel_stft.mel_scale.fb": (1025, 128),
        "quantizer_melspec_2048_0.random_projection": (512, 16),
        "quantizer_melspec_2048_0.codebook": (4096, 16),
        "conv.linear.weight": (1024, 16384),
        "conv.linear.bias": (1024,),
        "conformer.embed_positions.inv_freq": (32,),
        "conformer.pos_conv_embed.conv.weight_g": (1, 1, 128),
        "conformer.pos_conv_embed.conv.weight_v": (1024, 64, 128),
        "conformer.pos_conv_embed.conv.bias": (1024,),
        "conformer.layer_norm.weight": (1024,),
        "conformer.layer_norm.bias": (1024,),
        "linear.weight": (4096, 1024),
        "linear.bias": (4096,),
        "cls_token": (1024,),
    }
    for block in (0, 1):
        for n in (1, 2, 3):
            in_channels = 1 if block == 0 and n != 2 else 512
            table[f"conv.conv.{block}.conv{n}.weight"] = (512, in_channels, 3, 3)
            table[f"conv.conv.{block}.conv{n}.bias"] = (512,)
            for name in ("weight", "bias", "running_mean", "running_var"):
                table[f"conv.conv.{block}.bn{n}.{name}"] = (512,)
            table[f"conv.conv.{block}.bn{n}.num_batches_tracked"] = ()
    for i in range(12):
        layer = f"conformer.layers.{i}"
        for norm in ("ffn1_layer_norm", "self_attn_layer_norm", "conv_module.layer_norm", "ffn2_layer_norm"):
            table[f"{layer}.{norm}.weight"] = table[f"{layer}.{norm}.bias"] = (1024,)
        table[f"{layer}.final_layer_norm.weight"] = table[f"{layer}.final_layer_norm.bias"] = (1024,)
        for ffn in ("ffn1", "ffn2"):
            table[f"{layer}.{ffn}.intermediate_dense.weight"] = (4096, 1024)
            table[f"{layer}.{ffn}.intermediate_dense.bias"] = (4096,)
            table[f"{layer}.{ffn}.output_dense.weight"] = (1024, 4096)
            table[f"{layer}.{ffn}.output_dense.bias"] = (1024,)
        for projection in ("q", "k", "v", "out"):
            table[f"{layer}.self_attn.linear_{projection}.weight"] = (1024, 1024)
            table[f"{layer}.self_attn.linear_{projection}.bias"] = (1024,)
        table[f"{layer}.conv_module.pointwise_conv1.weight"] = (2048, 1024, 1)
        table[f"{layer}.conv_module.depthwise_conv.weight"] = (1024, 1, 31)
        for name in ("weight", "bias", "running_mean", "running_var"):
            table[f"{layer}.conv_module.batch_norm.{name}"] = (1024,)
        table[f"{layer}.conv_module.batch_norm.num_batches_tracked"] = ()
        table[f"{layer}.conv_module.pointwise_conv2.weight"] = (1024, 1024, 1)
    return table


def test_full_size_model_has_exactly_the_official_keys_and_shapes():
    with torch.device("meta"):
        model = MusicFM(MusicFMConfig())
    state = model.state_dict()

    assert {key: tuple(value.shape) for key, value in state.items()} == official_key_table()
    assert len(state) == 465
    assert sum(value.numel() for value in state.values()) == 329_170_226


def test_it_loads_the_official_layout_strictly_and_embeds_to_a_unit_vector(tmp_path):
    # Full width (1024) so that the vector has the published dimension; two thin layers keep it small.
    config = dataclasses.replace(TINY, encoder_dim=1024, num_heads=16, intermediate_dim=256, pos_conv_groups=16)
    model = random_model(config)
    checkpoint = save_checkpoint(tmp_path / "pretrained_msd.pt", model)

    embedder = load_embedder(
        device="cpu", checkpoint=checkpoint, stats=save_stats(tmp_path / "msd_stats.json"), layer=2, config=config
    )
    batch = embedder.embed([clip(2.0)])

    assert batch.vectors.shape == (1, 1024)
    assert batch.vectors.dtype == np.float32
    assert np.linalg.norm(batch.vectors[0]) == pytest.approx(1.0, abs=1e-5)
    assert batch.tags == []
    assert (embedder.name, embedder.dim, embedder.sample_rate) == ("musicfm", 1024, 24000)
    assert embedder.weights_sha256 == hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    loaded = embedder.model.state_dict()
    assert all(torch.equal(loaded[key].float(), value.float()) for key, value in model.state_dict().items())
    assert loaded["conv.conv.0.bn1.num_batches_tracked"].dtype == torch.int64


def test_settings_record_how_vectors_are_made(tiny_embedder):
    assert tiny_embedder.settings == {
        "layer": 1,
        "pooling": "mean over time",
        "chunk_seconds": 30,
        "sample_rate": 24000,
        "checkpoint": "pretrained_msd.pt",
        "stats": {
            "file": "msd_stats.json",
            "melspec_2048_mean": STATS["melspec_2048_mean"],
            "melspec_2048_std": STATS["melspec_2048_std"],
        },
        "precision": "fp32",
    }
    json.dumps(tiny_embedder.settings)


def test_embeddings_are_deterministic_and_independent_of_the_batch(tiny_embedder):
    a, b = clip(2.0, seed=1), clip(2.0, seed=2)

    alone = tiny_embedder.embed([a]).vectors
    again = tiny_embedder.embed([a]).vectors
    together = tiny_embedder.embed([b, a, clip(3.0)]).vectors

    np.testing.assert_array_equal(alone, again)
    np.testing.assert_allclose(together[1], alone[0], atol=1e-5)
    assert together.shape == (3, TINY.encoder_dim)
    assert not np.allclose(together[0], together[1], atol=1e-3)


def test_the_vector_is_the_normalised_time_mean_of_the_chosen_layer(tiny_files, tiny_embedder):
    model, _, _ = tiny_files
    model.mel_mean, model.mel_std = STATS["melspec_2048_mean"], STATS["melspec_2048_std"]
    waveform = clip(2.0)

    with torch.no_grad():
        hidden_states = model(torch.from_numpy(waveform)[None])
    expected = hidden_states[1][0].mean(dim=0).numpy()

    vector = tiny_embedder.embed([waveform]).vectors[0]
    np.testing.assert_allclose(vector, expected / np.linalg.norm(expected), atol=1e-5)
    assert hidden_states[1].shape == (1, 50, TINY.encoder_dim)  # 2 s at 25 Hz


def test_there_are_thirteen_hidden_states_and_each_depth_stops_at_its_layer():
    config = dataclasses.replace(TINY, encoder_depth=12)
    model = random_model(config)
    waveform = torch.from_numpy(clip(1.0))[None]

    with torch.no_grad():
        hidden_states = model(waveform)
        layer_seven = model(waveform, depth=7)
        without_final_norm = model.conformer.layers[11](hidden_states[11], *model.conformer.embed_positions(25))

    assert len(hidden_states) == 13
    assert len(layer_seven) == 8
    torch.testing.assert_close(layer_seven[7], hidden_states[7])
    torch.testing.assert_close(hidden_states[12], model.conformer.layer_norm(without_final_norm))
    assert not torch.allclose(hidden_states[6], hidden_states[7])


def test_layer_choice_changes_the_vector(tiny_files):
    _, checkpoint, stats = tiny_files
    waveform = clip(2.0)

    vectors = [load_tiny(checkpoint, stats, layer).embed([waveform]).vectors for layer in (0, 1, 2)]

    assert not np.allclose(vectors[0], vectors[1], atol=1e-3)
    assert not np.allclose(vectors[1], vectors[2], atol=1e-3)


def test_long_clips_are_averaged_over_chunks_of_at_most_30_seconds(tiny_embedder, monkeypatch):
    waveform = clip(40.0)
    seen = []
    forward = tiny_embedder.model.forward

    def recording_forward(x, depth=None):
        seen.append(x.shape[-1])
        return forward(x, depth)

    monkeypatch.setattr(tiny_embedder.model, "forward", recording_forward)
    whole = tiny_embedder.embed([waveform]).vectors[0]
    monkeypatch.undo()

    assert seen == [20 * SAMPLE_RATE]  # two equal halves, in one batch
    with torch.no_grad():
        halves = [tiny_embedder.model(torch.from_numpy(half)[None], 1)[1][0] for half in np.split(waveform, 2)]
    expected = torch.cat(halves).mean(dim=0).numpy()
    np.testing.assert_allclose(whole, expected / np.linalg.norm(expected), atol=1e-5)


def test_clips_too_short_for_one_stft_frame_are_refused(tiny_embedder):
    with pytest.raises(ValueError, match="Clip 1 has 100 samples"):
        tiny_embedder.embed([clip(1.0), np.zeros(100, dtype=np.float32)])


def test_an_empty_list_gives_an_empty_batch(tiny_embedder):
    assert tiny_embedder.embed([]).vectors.shape == (0, TINY.encoder_dim)


def test_it_accepts_pos_conv_weights_in_the_parametrizations_layout(tmp_path, tiny_files):
    model, _, stats = tiny_files
    checkpoint = save_checkpoint(tmp_path / "pretrained_msd.pt", model, weight_norm="parametrizations")

    embedder = load_tiny(checkpoint, stats, layer=2)

    torch.testing.assert_close(
        embedder.model.conformer.pos_conv_embed.conv.weight_v, model.conformer.pos_conv_embed.conv.weight_v
    )


def test_paths_come_from_the_environment_and_the_registry_finds_the_model(tiny_files, monkeypatch):
    _, checkpoint, stats = tiny_files
    monkeypatch.setenv("MUSICFM_CHECKPOINT", str(checkpoint))
    monkeypatch.setenv("MUSICFM_STATS", str(stats))

    embedder = base.load_embedder("musicfm", device="cpu", layer=1, config=TINY)

    assert embedder.settings["checkpoint"] == "pretrained_msd.pt"
    assert embedder.embed([clip(1.0)]).vectors.shape == (1, TINY.encoder_dim)


def without(key):
    def change(state):
        del state[key]

    return change


def reshaped(key, shape):
    def change(state):
        state[key] = torch.zeros(shape)

    return change


def with_extra(key):
    def change(state):
        state[key] = torch.zeros(1)

    return change


@pytest.mark.parametrize(
    "change, expected_text",
    [
        (without("model.conv.linear.bias"), "1 missing keys (conv.linear.bias)"),
        (reshaped("model.conv.linear.weight", (3, 3)), "conv.linear.weight is [3, 3] in the file but [64, 256]"),
        (with_extra("model.conformer.layers.12.ffn1.output_dense.bias"), "unexpected keys (conformer.layers.12."),
        (without("model.conformer.pos_conv_embed.conv.weight_g"), "conformer.pos_conv_embed.conv.weight_g"),
    ],
)
def test_a_checkpoint_that_does_not_fit_is_refused_with_the_reason(tmp_path, tiny_files, change, expected_text):
    model, _, stats = tiny_files
    state = official_state_dict(model)
    change(state)
    checkpoint = save_checkpoint(tmp_path / "pretrained_msd.pt", state=state)

    with pytest.raises(ModelUnavailable) as error:
        load_tiny(checkpoint, stats)

    message = str(error.value)
    assert expected_text in message
    assert "pretrained_msd.pt" in message
    assert "MUSICFM_CHECKPOINT" in message


@pytest.mark.parametrize(
    "content, expected_text",
    [
        ([1, 2, 3], 'should hold a dict with a "state_dict" entry but holds list'),
        ({"weights": {}}, "but holds a dict with keys ['weights']"),
        ({"state_dict": {"conv.linear.bias": torch.zeros(64)}}, 'keys without the "model." prefix'),
        ({"state_dict": {"model.cls_token": 3}}, "entries that are not tensors (model.cls_token)"),
    ],
)
def test_a_file_without_the_official_layout_is_refused(tmp_path, tiny_files, content, expected_text):
    _, _, stats = tiny_files
    checkpoint = tmp_path / "pretrained_msd.pt"
    torch.save(content, checkpoint)

    with pytest.raises(ModelUnavailable, match="pretrained_msd.pt") as error:
        load_tiny(checkpoint, stats)

    assert expected_text in str(error.value)


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path, tiny_files):
    _, _, stats = tiny_files
    checkpoint = tmp_path / "pretrained_msd.pt"
    checkpoint.write_bytes(b"<html>Not found</html>")

    with pytest.raises(ModelUnavailable, match="could not be read as a PyTorch checkpoint"):
        load_tiny(checkpoint, stats)


def test_missing_files_are_named(tmp_path, tiny_files):
    _, checkpoint, stats = tiny_files

    with pytest.raises(ModelUnavailable, match=r"checkpoint .*nowhere\.pt does not exist.*MUSICFM_CHECKPOINT"):
        load_tiny(tmp_path / "nowhere.pt", stats)
    with pytest.raises(ModelUnavailable, match=r"stats file .*nowhere\.json does not exist.*MUSICFM_STATS"):
        load_tiny(checkpoint, tmp_path / "nowhere.json")


def test_without_paths_it_says_which_variables_to_set(monkeypatch):
    monkeypatch.delenv("MUSICFM_CHECKPOINT", raising=False)
    monkeypatch.delenv("MUSICFM_STATS", raising=False)

    with pytest.raises(ModelUnavailable, match="no checkpoint: pass it to load_embedder or set MUSICFM_CHECKPOINT"):
        load_embedder(device="cpu")


@pytest.mark.parametrize(
    "text, expected_text",
    [
        ("{not json", "is not valid JSON"),
        (json.dumps({"spec_256_mean": 1.0}), "has no melspec_2048_mean and melspec_2048_std"),
        (json.dumps({"melspec_2048_mean": 1.0, "melspec_2048_std": 0.0}), "it must be positive"),
        (json.dumps({"melspec_2048_mean": "6.7", "melspec_2048_std": 18.4}), "non-numeric"),
    ],
)
def test_a_bad_stats_file_is_refused(tmp_path, tiny_files, text, expected_text):
    _, checkpoint, _ = tiny_files
    stats = tmp_path / "msd_stats.json"
    stats.write_text(text)

    with pytest.raises(ModelUnavailable, match="msd_stats.json") as error:
        load_tiny(checkpoint, stats)

    assert expected_text in str(error.value)


def test_stats_of_the_other_training_set_are_refused(tmp_path, tiny_files):
    _, checkpoint, _ = tiny_files

    with pytest.raises(ModelUnavailable, match="trained on MSD but the stats file fma_stats.json is for FMA"):
        load_tiny(checkpoint, save_stats(tmp_path / "fma_stats.json"))


def test_layers_outside_the_model_are_rejected(tiny_files):
    _, checkpoint, stats = tiny_files

    with pytest.raises(ValueError, match="layer must be between 0 and 2"):
        load_tiny(checkpoint, stats, layer=3)


def numpy_log_mel(waveform, n_fft=2048, hop=240, n_mels=128, sample_rate=24000):
    """torchaudio's MelSpectrogram + AmplitudeToDB defaults, written out in float64 NumPy; last frame dropped."""
    padded = np.pad(waveform.astype(np.float64), n_fft // 2, mode="reflect")
    n_frames = 1 + len(waveform) // hop
    frames = padded[np.arange(n_fft)[None, :] + hop * np.arange(n_frames)[:, None]]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # periodic Hann
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2  # (frames, n_fft/2+1)

    def hz_to_mel(f):
        return 2595.0 * np.log10(1.0 + f / 700.0)

    freqs = np.linspace(0, sample_rate // 2, n_fft // 2 + 1)
    edges = 700.0 * (10 ** (np.linspace(hz_to_mel(0.0), hz_to_mel(sample_rate / 2), n_mels + 2) / 2595.0) - 1.0)
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (freqs[:, None] - lower) / (centre - lower)
    falling = (upper - freqs[:, None]) / (upper - centre)
    filterbank = np.maximum(0.0, np.minimum(rising, falling))  # (n_freqs, n_mels)

    mel = power @ filterbank
    return 10 * np.log10(np.maximum(mel, 1e-10)).T[:, :-1], filterbank


def test_mel_front_end_matches_the_torchaudio_definition():
    model = MusicFM(TINY)
    waveform = clip(1.5)

    with torch.no_grad():
        ours = model.melspectrogram(torch.from_numpy(waveform)[None])[0].double().numpy()
    reference, filterbank = numpy_log_mel(waveform)

    assert ours.shape == reference.shape == (128, 150)
    np.testing.assert_allclose(model.preprocessor_melspec_2048.mel_stft.mel_scale.fb.numpy(), filterbank, atol=1e-4)
    power_ours, power_reference = 10 ** (ours / 10), 10 ** (reference / 10)
    assert np.linalg.norm(power_ours - power_reference) / np.linalg.norm(power_reference) < 1e-4
    np.testing.assert_allclose(ours, reference, atol=1e-3)  # dB: 1e-3 dB is a relative power error of 2.3e-4


def test_attention_rotates_the_normed_input_before_the_query_and_key_projections():
    torch.manual_seed(0)
    attention = SelfAttention(TINY)
    model = MusicFM(TINY)
    x = torch.randn(2, 10, TINY.encoder_dim)
    cos, sin = model.conformer.embed_positions(10)

    with torch.no_grad():
        ours = attention(x, cos, sin)

        # Rotary as complex multiplication: dims i and i + hd/2 of each head form one complex number turned by
        # position * inv_freq[i].
        heads, half = TINY.num_heads, TINY.encoder_dim // TINY.num_heads // 2
        split = x.view(2, 10, heads, 2, half)
        turned = torch.complex(split[..., 0, :], split[..., 1, :]) * torch.polar(
            torch.ones(10, half), torch.arange(10.0)[:, None] * model.conformer.embed_positions.inv_freq
        )[None, :, None, :]
        rotated = torch.stack([turned.real, turned.imag], dim=3).reshape(2, 10, TINY.encoder_dim)

        def per_head(projection, inputs):
            return projection(inputs).view(2, 10, heads, 2 * half).transpose(1, 2)

        q = per_head(attention.linear_q, rotated)
        k = per_head(attention.linear_k, rotated)
        v = per_head(attention.linear_v, x)
        probs = torch.softmax(q @ k.transpose(-1, -2) / (2 * half) ** 0.5, dim=-1)
        reference = attention.linear_out((probs @ v).transpose(1, 2).reshape(2, 10, TINY.encoder_dim))

    torch.testing.assert_close(ours, reference, atol=1e-5, rtol=1e-5)
