"""The wavelength model file: shapes, pooling and each loss term on tiny hand-made inputs."""

import math

import pytest
import torch
import torch.nn.functional as F

from embedding.wavelength_network import (
    Wavelength,
    WavelengthConfig,
    gpu_config,
    info_nce,
    likely_false_negatives,
    masked_segment_loss,
    training_loss,
    uniformity,
    vicreg_covariance,
    vicreg_variance,
)

TINY = WavelengthConfig(feature_dim=12, context_segments=6, d_model=16, n_layer=1, n_head=2, out_dim=8, dropout=0.0)


def library(count=300, seed=0):
    """Correlated segment features with very unequal variances, as musicnn's are."""
    generator = torch.Generator().manual_seed(seed)
    mixing = torch.randn(12, 12, generator=generator) * torch.logspace(1, -2, 12)[:, None]
    return torch.randn(count, 12, generator=generator) @ mixing + 3.0


LENGTHS = [30] * 10  # library()'s 300 segments as ten tracks


@pytest.fixture
def model():
    torch.manual_seed(0)
    model = Wavelength(TINY)
    model.fit_feature_scale(library(), LENGTHS)
    return model.eval()


def _whitened_covariance(model, features, lengths=None):
    """The covariance of the whitened features: around each track's mean when lengths are given."""
    whitened = (features - model.feature_mean) @ model.whitening  # (N, out_dim)
    if lengths is None:
        return torch.cov(whitened.T)
    within = torch.cat([t - t.mean(dim=0) for t in torch.split(whitened, lengths)])
    return within.T @ within / (len(features) - len(lengths))


def _is_shrunk_whitening(covariance) -> bool:
    """Decorrelated, and every kept axis below unit variance, the large ones nearest to it."""
    off_diagonal = covariance - torch.diag(torch.diag(covariance))
    variances = torch.diag(covariance)
    return (
        float(off_diagonal.abs().max()) < 1e-3
        and float(variances.max()) < 1.0
        and bool((variances[:-1] >= variances[1:] - 1e-4).all())
        and float(variances[0]) > 0.9
    )


def test_forward_gives_per_segment_states_and_one_projection_per_track(model):
    features = torch.randn(3, 5, 12)
    valid = torch.ones(3, 5, dtype=torch.bool)
    states, projection = model(features, valid)
    assert states.shape == (3, 5, 16) and projection.shape == (3, 8)


def test_padded_segments_change_nothing(model):
    features = torch.randn(1, 4, 12)
    padded = torch.cat([features, torch.randn(1, 2, 12) * 100], dim=1)
    valid = torch.tensor([[True] * 4 + [False] * 2])
    _, short = model(features, torch.ones(1, 4, dtype=torch.bool))
    _, long = model(padded, valid)
    assert torch.allclose(short, long, atol=1e-5)


def test_a_track_longer_than_the_context_is_read_in_windows_into_a_unit_vector(model):
    vector = model.embed_track(torch.randn(17, 12))
    assert vector.shape == (8,) and float(vector.norm()) == pytest.approx(1.0, abs=1e-5)


def test_the_base_whitens_how_segments_vary_within_their_tracks():
    torch.manual_seed(0)
    model = Wavelength(WavelengthConfig(**{**TINY.to_dict(), "out_dim": 12}))  # every axis kept
    features = library() + 5.0 * torch.randn(10, 12).repeat_interleave(30, dim=0)  # each track its own offset
    model.fit_feature_scale(features, LENGTHS)
    assert _is_shrunk_whitening(_whitened_covariance(model, features, LENGTHS))
    # Not the library's covariance: the tracks' own means differ, and that is what the base keeps.
    assert not _is_shrunk_whitening(_whitened_covariance(model, features))


def test_fewer_axes_keep_the_principal_ones_of_the_segments_so_whitened(model):
    assert model.whitening.shape == (12, 8)
    covariance = _whitened_covariance(model, library())
    off_diagonal = covariance - torch.diag(torch.diag(covariance))
    variances = torch.diag(covariance)
    assert float(off_diagonal.abs().max()) < 1e-3 * float(variances.max())
    assert bool((variances[:-1] >= variances[1:] - 1e-6).all())


def test_the_library_whitening_keeps_the_largest_axes_of_all_segments():
    torch.manual_seed(0)
    model = Wavelength(WavelengthConfig(**{**TINY.to_dict(), "base_whitening": "library", "whiten_shrinkage": 0.2}))
    model.fit_feature_scale(library())
    assert _is_shrunk_whitening(_whitened_covariance(model, library()))


def test_the_within_track_whitening_needs_each_tracks_count_of_segments():
    with pytest.raises(ValueError, match="needs each track's count of segments"):
        Wavelength(TINY).fit_feature_scale(library())
    with pytest.raises(ValueError, match="needs each track's count of segments"):
        Wavelength(TINY).fit_feature_scale(library(), [30] * 9)


def test_an_untrained_model_gives_the_whitened_base_exactly(model):
    track = library(20, seed=1)
    expected = F.normalize(((track - model.feature_mean) @ model.whitening).mean(dim=0), dim=0)
    assert torch.allclose(model.embed_track(track), expected, atol=1e-5)


def test_without_the_base_the_vector_is_the_transformers_alone():
    torch.manual_seed(0)
    bare = Wavelength(WavelengthConfig(**{**TINY.to_dict(), "whitened_base": False, "pooling": "mean"})).eval()
    assert not hasattr(bare, "whitening")
    track = torch.randn(5, 12)
    _, part = bare.transformer(track[None], torch.ones(1, 5, dtype=torch.bool))
    assert torch.allclose(bare.embed_track(track), F.normalize(part[0], dim=0), atol=1e-5)
    assert float(part.detach().norm()) > 0


def test_the_context_is_enforced(model):
    with pytest.raises(AssertionError):
        model(torch.randn(1, 7, 12), torch.ones(1, 7, dtype=torch.bool))


@torch.no_grad()
def test_masked_segment_loss_counts_only_masked_segments(model):
    states = torch.randn(2, 4, 16)
    features = torch.randn(2, 4, 12)
    masked = torch.zeros(2, 4, dtype=torch.bool)
    masked[0, 1] = True
    expected = F.mse_loss(model.predictor(states[0, 1]), model.standardise(features[0, 1]))
    assert float(masked_segment_loss(model, states, features, masked)) == pytest.approx(float(expected))
    assert float(masked_segment_loss(model, states, features, torch.zeros_like(masked))) == 0.0


def test_info_nce_is_low_for_matching_pairs_and_chance_for_random_ones():
    a = F.normalize(torch.eye(4), dim=1)
    assert float(info_nce(a, a, temperature=0.1)) < 0.01
    torch.manual_seed(1)
    random = F.normalize(torch.randn(64, 32), dim=1)
    shuffled = F.normalize(torch.randn(64, 32), dim=1)
    assert float(info_nce(random, shuffled, temperature=1.0)) == pytest.approx(math.log(64), rel=0.05)


def test_info_nce_leaves_out_the_pairs_it_is_told_to():
    a = F.normalize(torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]), dim=1)
    left_out = torch.zeros(3, 3, dtype=torch.bool)
    left_out[0, 1] = left_out[1, 0] = True
    assert float(info_nce(a, a, 0.1, left_out)) < float(info_nce(a, a, 0.1))


@torch.no_grad()
def test_the_nearest_tracks_in_the_base_are_left_out_of_the_negatives(model):
    torch.manual_seed(3)
    centres = library(4, seed=2)
    near_copy = centres[0] + 0.01 * torch.randn(12)  # track 4 sounds like track 0
    tracks = torch.stack([*centres, near_copy])[:, None, :].expand(5, 3, 12)  # (5, 3, 12)
    valid = torch.ones(5, 3, dtype=torch.bool)
    model.config = WavelengthConfig(**{**TINY.to_dict(), "false_negatives": 1})
    left_out = likely_false_negatives(model, tracks, tracks, valid, valid)
    assert bool(left_out[0, 4]) and bool(left_out[4, 0]) and not bool(left_out.diagonal().any())
    model.config = TINY
    assert likely_false_negatives(model, tracks, tracks, valid, valid) is None


def test_uniformity_prefers_spread_vectors_to_collapsed_ones():
    spread = F.normalize(torch.randn(64, 16), dim=1)
    collapsed = F.normalize(torch.ones(64, 16) + 0.01 * torch.randn(64, 16), dim=1)
    assert float(uniformity(spread)) < -2.0 < float(uniformity(collapsed))


def test_vicreg_terms_punish_collapse_and_correlation():
    z = torch.randn(256, 8)
    assert float(vicreg_variance(z)) < 0.1 < float(vicreg_variance(0.01 * z))
    correlated = torch.cat([z[:, :1]] * 8, dim=1)
    assert float(vicreg_covariance(z)) < 0.2 < float(vicreg_covariance(correlated))


@torch.no_grad()
def test_each_weight_scales_its_term(model):
    torch.manual_seed(2)
    views = (torch.randn(4, 6, 12), torch.randn(4, 6, 12))
    valid = torch.ones(4, 6, dtype=torch.bool)
    masked = torch.zeros(4, 6, dtype=torch.bool)
    masked[:, 2] = True
    terms = training_loss(model, *views, valid, valid, masked, masked)
    expected = terms.masked + terms.contrast + 0.2 * terms.uniformity
    assert float(terms.total) == pytest.approx(float(expected), rel=1e-5)
    assert float(terms.neighbour) == 0.0  # no neighbours given
    neighbours = F.normalize(torch.randn(4, 8), dim=1)
    model.config = WavelengthConfig(**{**TINY.to_dict(), "w_neighbour": 0.5})
    with_neighbours = training_loss(model, *views, valid, valid, masked, masked, neighbours)
    assert float(with_neighbours.neighbour) > 0
    assert float(with_neighbours.total) == pytest.approx(float(expected + 0.5 * with_neighbours.neighbour), rel=1e-5)
    model.config = WavelengthConfig(
        **{
            **TINY.to_dict(),
            "w_masked": 0.0,
            "w_contrast": 0.0,
            "w_uniformity": 0.0,
            "w_variance": 1.0,
            "w_covariance": 2.0,
        }
    )
    terms = training_loss(model, *views, valid, valid, masked, masked)
    assert float(terms.total) == pytest.approx(float(terms.variance + 2 * terms.covariance), rel=1e-5)


def test_the_gpu_config_is_larger_and_the_config_round_trips():
    assert gpu_config().d_model > WavelengthConfig().d_model
    assert WavelengthConfig.from_dict(TINY.to_dict()) == TINY
    with pytest.raises(ValueError, match="Unknown wavelength config field"):
        WavelengthConfig.from_dict({"layers": 3})
