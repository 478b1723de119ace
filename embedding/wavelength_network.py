"""wavelength: a small Transformer that reads a track as a sequence of 3-s segments and pools it to one vector.

Each segment arrives as a frozen feature vector over one 3-s patch, made by embedding.wavelength: musicnn's 200-d
penultimate layer, then the means of the 256 channels of its front and mid-end that depend on the input (the
channel means keep what musicnn's dense layer drops for its 50 tags, and lift the excerpt twins). The model is
trained on the library's own tracks, without labels, by three terms whose weights are config fields:

- masked-segment prediction: some segments are replaced by a learnt mask token and the model predicts their
  (standardised) features from the others, so it has to learn how a piece continues;
- contrastive (InfoNCE): two disjoint excerpts of the same track should land closer to each other than to any
  other track's excerpt in the batch, which teaches what stays the same across a piece;
- uniformity (Wang & Isola, 2020) and VICReg's variance and covariance terms: they spread the vectors over the
  sphere, so the space (and the map drawn from it) does not collapse onto a few directions.

The track vector is normalise(whitened base + the Transformer's part): the base is the mean of the track's
segment features whitened against how segments vary within their own tracks (fitted, not learnt); the
Transformer's part starts at zero and learns what to add (docs/benchmarks.md: the base carries the
same-soundtrack precision; the contrast, at a small learning rate, adds a little to it). Two optional terms
were measured and left off by default: NNCLR neighbour positives, and leaving a batch's likely same-soundtrack
tracks out of the contrast's negatives.

No Django here; embedding.wavelength makes the features, trains (embedding.wavelength_training) and embeds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class WavelengthConfig:
    # Per segment: musicnn's penultimate layer (200) and its 256 channel means. A model reads the first
    # feature_dim of them, so 200 is the penultimate layer alone (what models trained before the means read).
    feature_dim: int = 456
    context_segments: int = 10  # segments read at once (30 s); longer tracks are read in overlapping windows
    d_model: int = 128
    n_layer: int = 2
    n_head: int = 4
    mlp_ratio: int = 2
    dropout: float = 0.1
    out_dim: int = 456  # the stored vector's dimension (at most feature_dim with the whitened base)
    # The whitened base: each segment's features projected on the top `out_dim` principal axes of a covariance
    # of the library's segments and whitened (fitted before training, stored with the weights); the track
    # vector is normalise(mean of those + the Transformer's part). The Transformer's last layer starts at zero,
    # so training starts from this whitened-musicnn baseline and learns only what to add. False: no base, the
    # vector is the Transformer's part alone.
    whitened_base: bool = True
    # Which covariance the base whitens: "within-track", how a track's segments vary around the track's own mean
    # (what changes from passage to passage of one piece, so evening it out leaves what a piece keeps
    # throughout: within-class covariance normalisation, with the track as its own class, no labels), or
    # "library", all segments around the library's mean (plain PCA whitening).
    base_whitening: str = "within-track"
    # Regularised whitening: each axis is divided by sqrt(its variance + whiten_shrinkage * the mean variance),
    # so the smallest axes (mostly noise) are not blown up as far as the large ones are evened out.
    whiten_shrinkage: float = 0.05
    pooling: str = "mean+std"  # how segment states become the Transformer's track state: "mean" or "mean+std"
    feature_noise: float = 0.0  # Gaussian noise (in standardised units) added to segment features in training
    # Training: how views are made and how the terms are weighed.
    mask_ratio: float = 0.3  # share of a view's segments hidden for masked-segment prediction
    temperature: float = 0.1  # InfoNCE temperature
    false_negatives: int = 0  # per excerpt, the batch's tracks nearest in the base left out of its negatives
    w_masked: float = 1.0
    w_contrast: float = 1.0
    w_uniformity: float = 0.2
    w_variance: float = 0.0  # VICReg variance hinge on the unnormalised projections
    w_covariance: float = 0.0  # VICReg off-diagonal covariance
    batch_tracks: int = 256  # every track of a ~400-track library in one or two batches: more negatives
    w_neighbour: float = 0.0  # NNCLR: the nearest other tracks (in the space at the epoch's start) as a positive
    neighbour_k: int = 1  # how many nearest tracks make that positive (their mean)
    # Small: on the within-track whitened base, 1e-3 and 3e-4 teach the part which track an excerpt is from
    # (excerpt twins up) at the cost of which soundtrack (P@10 down); docs/benchmarks.md.
    learning_rate: float = 1e-4
    weight_decay: float = 0.05
    epochs: int = 30  # longer learns the tracks by heart: excerpt twins rise, same-soundtrack P@10 falls

    @classmethod
    def from_dict(cls, values: dict) -> WavelengthConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"Unknown wavelength config field(s): {', '.join(unknown)}.")
        return cls(**values)

    def to_dict(self) -> dict:
        return asdict(self)


def gpu_config(**overrides) -> WavelengthConfig:
    """A larger model for a GPU: wider, deeper, longer context and bigger batches (more negatives)."""
    values = dict(context_segments=20, d_model=384, n_layer=6, n_head=6, mlp_ratio=4, batch_tracks=256, epochs=400)
    return WavelengthConfig(**{**values, **overrides})


class SelfAttention(nn.Module):
    """Bidirectional multi-head attention that ignores padded segments."""

    def __init__(self, config: WavelengthConfig):
        super().__init__()
        assert config.d_model % config.n_head == 0
        self.n_head = config.n_head
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.proj = nn.Linear(config.d_model, config.d_model)
        self.dropout = config.dropout

    def forward(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape  # batch, segments, d_model
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))  # (B, h, T, c)
        attend = valid[:, None, None, :]  # (B, 1, 1, T): padded keys are never attended to
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attend, dropout_p=self.dropout if self.training else 0.0
        )  # (B, h, T, c)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class MLP(nn.Module):
    def __init__(self, config: WavelengthConfig):
        super().__init__()
        hidden = config.mlp_ratio * config.d_model
        self.up = nn.Linear(config.d_model, hidden)
        self.down = nn.Linear(hidden, config.d_model)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.down(F.gelu(self.up(x))))


class Block(nn.Module):
    """Pre-norm Transformer block, as in nanoGPT but without the causal mask."""

    def __init__(self, config: WavelengthConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.d_model)
        self.attn = SelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.d_model)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), valid)
        return x + self.mlp(self.ln_2(x))


class Wavelength(nn.Module):
    """Segment features (B, T, feature_dim) -> per-segment states and one projection per track."""

    def __init__(self, config: WavelengthConfig):
        super().__init__()
        assert config.pooling in ("mean", "mean+std"), f"Unknown pooling {config.pooling!r}"
        assert config.base_whitening in ("within-track", "library"), f"Unknown whitening {config.base_whitening!r}"
        assert not config.whitened_base or config.out_dim <= config.feature_dim, "The base keeps out_dim axes"
        self.config = config
        # Library statistics of the features, fitted before training (fit_feature_scale) and stored with the
        # weights, so a checkpoint standardises (and whitens) its inputs exactly as it did in training.
        self.register_buffer("feature_mean", torch.zeros(config.feature_dim))
        self.register_buffer("feature_std", torch.ones(config.feature_dim))
        if config.whitened_base:
            self.register_buffer("whitening", torch.zeros(config.feature_dim, config.out_dim))  # (F, out_dim)
        self.stem = nn.Linear(config.feature_dim, config.d_model)
        self.mask_token = nn.Parameter(torch.zeros(config.d_model))
        self.position = nn.Embedding(config.context_segments, config.d_model)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.d_model)
        self.predictor = nn.Linear(config.d_model, config.feature_dim)  # masked-segment prediction head
        pooled = 2 * config.d_model if config.pooling == "mean+std" else config.d_model
        self.projector = nn.Sequential(
            nn.Linear(pooled, config.d_model), nn.GELU(), nn.Linear(config.d_model, config.out_dim)
        )
        self.apply(self._init_weights)
        nn.init.normal_(self.mask_token, std=0.02)
        if config.whitened_base:
            nn.init.zeros_(self.projector[-1].weight)  # the Transformer's part starts at nothing: see the config

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.02)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)

    @torch.no_grad()
    def fit_feature_scale(self, features: torch.Tensor, lengths: Sequence[int] | None = None) -> None:
        """Set the input standardisation (and the whitening) from (N, feature_dim) segment features of the
        library, the segments of each track in turn; `lengths`: how many segments each track has (the
        within-track whitening needs them)."""
        self.feature_mean.copy_(features.mean(dim=0))
        self.feature_std.copy_(features.std(dim=0).clamp_min(1e-4))
        if not self.config.whitened_base:
            return
        centred = (features - self.feature_mean).double()  # (N, F); eigh in float64 for a stable order
        k, shrinkage = self.config.out_dim, self.config.whiten_shrinkage
        if self.config.base_whitening == "library":
            whitening = _principal_axes(centred, len(features) - 1, k, shrinkage)  # (F, k)
        else:
            if lengths is None or sum(lengths) != len(features):
                raise ValueError("The within-track whitening needs each track's count of segments.")
            tracks = torch.split(centred, list(lengths))  # each (n_i, F)
            within = torch.cat([t - t.mean(dim=0) for t in tracks])  # (N, F) around each track's own mean
            # Every axis of the within-track covariance evened out; where fewer are kept, the top principal
            # axes of the segments so whitened (a rotation when all are kept, which cosines do not see).
            whitening = _principal_axes(within, len(features) - len(tracks), centred.shape[1], shrinkage)  # (F, F)
            if k < centred.shape[1]:
                whitening = whitening @ _principal_axes(centred @ whitening, len(features) - 1, k, None)  # (F, k)
        self.whitening.copy_(whitening.to(self.whitening.dtype))

    def standardise(self, features: torch.Tensor) -> torch.Tensor:
        return (features - self.feature_mean) / self.feature_std

    def base(self, features: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """features (B, T, F), valid (B, T) -> (B, out_dim) unit vectors: the mean of the whitened valid segments."""
        whitened = (features - self.feature_mean) @ self.whitening  # (B, T, out_dim)
        weights = valid.to(whitened.dtype)[..., None]  # (B, T, 1)
        mean = (whitened * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1.0)  # (B, out_dim)
        return F.normalize(mean, dim=1)

    def transformer(
        self, features: torch.Tensor, valid: torch.Tensor, masked: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """features (B, T, F) -> final per-segment states (B, T, d_model) and the Transformer's part (B, out_dim)."""
        B, T, _ = features.shape
        assert T <= self.config.context_segments, f"{T} segments exceed the context of {self.config.context_segments}"
        x = self.standardise(features)  # (B, T, F)
        if self.training and self.config.feature_noise:
            x = x + self.config.feature_noise * torch.randn_like(x)
        x = self.stem(x)  # (B, T, d_model)
        if masked is not None:
            x = torch.where(masked[..., None], self.mask_token.to(x.dtype), x)
        x = self.drop(x + self.position(torch.arange(T, device=features.device)))  # (B, T, d_model)
        for block in self.blocks:
            x = block(x, valid)
        states = self.ln_f(x)  # (B, T, d_model)
        weights = valid.to(states.dtype)[..., None]  # (B, T, 1)
        count = weights.sum(dim=1).clamp_min(1.0)  # (B, 1)
        pooled = (states * weights).sum(dim=1) / count  # (B, d_model)
        if self.config.pooling == "mean+std":
            spread = (((states - pooled[:, None]) ** 2) * weights).sum(dim=1) / count  # (B, d_model)
            pooled = torch.cat([pooled, spread.clamp_min(1e-6).sqrt()], dim=1)  # (B, 2 d_model)
        return states, self.projector(pooled)

    def forward(
        self, features: torch.Tensor, valid: torch.Tensor, masked: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """features (B, T, F), valid (B, T) bool, masked (B, T) bool or None.

        Returns the final per-segment states (B, T, d_model) and the track projection (B, out_dim), not yet
        normalised: the whitened base (of the unmasked features: the base hides nothing) plus the Transformer's
        part, or the Transformer's part alone when there is no base.
        """
        states, part = self.transformer(features, valid, masked)
        if self.config.whitened_base:
            part = self.base(features, valid) + part
        return states, part

    @torch.no_grad()
    def embed_track(self, features: torch.Tensor) -> torch.Tensor:
        """(n, F) features of one track -> (out_dim,) unit vector.

        Tracks longer than the context are read by the Transformer in windows that overlap by half, and their
        parts averaged, so every part of the track counts about equally; the base is over the whole track.
        """
        n, context = len(features), self.config.context_segments
        if n <= context:
            starts = [0]
        else:
            hop = max(1, context // 2)
            starts = list(range(0, n - context + 1, hop))
            if starts[-1] != n - context:
                starts.append(n - context)
        windows = torch.stack([features[s : s + context] for s in starts])  # (W, min(n, context), F)
        valid = torch.ones(windows.shape[:2], dtype=torch.bool, device=features.device)
        _, parts = self.transformer(windows, valid)  # (W, out_dim)
        vector = parts.mean(dim=0)  # (out_dim,)
        if self.config.whitened_base:
            everything = torch.ones(1, n, dtype=torch.bool, device=features.device)
            vector = self.base(features[None], everything)[0] + vector
        return F.normalize(vector, dim=0)


def _principal_axes(centred: torch.Tensor, dof: int, k: int, shrinkage: float | None) -> torch.Tensor:
    """(N, F) centred rows -> (F, k): their covariance's top k eigenvectors, each divided by sqrt(its variance +
    shrinkage * the mean variance) (regularised whitening), or left at unit length where shrinkage is None."""
    covariance = centred.T @ centred / max(dof, 1)  # (F, F)
    eigenvalues, eigenvectors = torch.linalg.eigh(covariance)  # ascending
    top_values, top_vectors = eigenvalues.flip(0)[:k], eigenvectors.flip(1)[:, :k]  # (k,), (F, k)
    # An eigenvector's sign is arbitrary; fix it (largest entry positive) so a seed gives one model.
    signs = torch.sign(top_vectors.gather(0, top_vectors.abs().argmax(dim=0, keepdim=True)))  # (1, k)
    if shrinkage is None:
        return top_vectors * signs
    floor = shrinkage * eigenvalues.clamp_min(0).mean()
    return top_vectors * signs / (top_values.clamp_min(0) + floor).clamp_min(1e-8).sqrt()


def masked_segment_loss(
    model: Wavelength, states: torch.Tensor, features: torch.Tensor, masked: torch.Tensor
) -> torch.Tensor:
    """Mean squared error of the predicted standardised features, over the masked segments only."""
    if not masked.any():
        return states.sum() * 0.0
    predicted = model.predictor(states[masked])  # (M, F)
    target = model.standardise(features[masked])  # (M, F)
    return F.mse_loss(predicted, target)


def info_nce(
    a: torch.Tensor, b: torch.Tensor, temperature: float, left_out: torch.Tensor | None = None
) -> torch.Tensor:
    """Symmetric InfoNCE between unit vectors a (B, D) and b (B, D): row i of a belongs with row i of b.

    left_out (B, B) bool, optional: pairs (i, j) that are not used as negatives (never the diagonal).
    """
    logits = a @ b.T / temperature  # (B, B)
    if left_out is not None:
        logits = logits.masked_fill(left_out, -math.inf)
    labels = torch.arange(len(a), device=a.device)
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))


def uniformity(z: torch.Tensor, t: float = 2.0) -> torch.Tensor:
    """Wang & Isola's uniformity of unit vectors z (B, D): log E exp(-t |zi - zj|^2), lower is more uniform."""
    squared = torch.pdist(z, p=2).pow(2)  # (B (B - 1) / 2,)
    return squared.mul(-t).exp().mean().log()


def vicreg_variance(z: torch.Tensor, target: float = 1.0) -> torch.Tensor:
    """VICReg's hinge on each dimension's standard deviation over the batch, z (B, D) unnormalised."""
    std = torch.sqrt(z.var(dim=0) + 1e-4)
    return F.relu(target - std).mean()


def vicreg_covariance(z: torch.Tensor) -> torch.Tensor:
    """VICReg's penalty on off-diagonal covariance, scaled by the dimension, z (B, D) unnormalised."""
    B, D = z.shape
    centred = z - z.mean(dim=0)
    covariance = centred.T @ centred / max(B - 1, 1)  # (D, D)
    off_diagonal = covariance - torch.diag(torch.diag(covariance))
    return off_diagonal.pow(2).sum() / D


@torch.no_grad()
def likely_false_negatives(
    model: Wavelength, view_a: torch.Tensor, view_b: torch.Tensor, valid_a: torch.Tensor, valid_b: torch.Tensor
) -> torch.Tensor | None:
    """(B, B) bool: for each excerpt, the `false_negatives` other tracks of the batch nearest to it in the base.

    Those are likely the same soundtrack (false-negative cancellation, Huynh et al., 2022): the contrast then
    does not push them apart, and still tells the track from the rest. None when there is nothing to leave out.
    """
    k = min(model.config.false_negatives, len(view_a) - 2)
    if k <= 0 or not model.config.whitened_base:
        return None
    similarity = model.base(view_a, valid_a) @ model.base(view_b, valid_b).T  # (B, B)
    similarity.fill_diagonal_(-math.inf)
    nearest = similarity.topk(k, dim=1).indices  # (B, k)
    left_out = torch.zeros_like(similarity, dtype=torch.bool).scatter_(1, nearest, True)
    return left_out | left_out.T


@dataclass
class LossTerms:
    total: torch.Tensor
    masked: torch.Tensor
    contrast: torch.Tensor
    uniformity: torch.Tensor
    variance: torch.Tensor
    covariance: torch.Tensor
    neighbour: torch.Tensor

    def as_floats(self) -> dict[str, float]:
        return {name: float(getattr(self, name).detach()) for name in self.__dataclass_fields__}


def training_loss(
    model: Wavelength,
    view_a: torch.Tensor,
    view_b: torch.Tensor,
    valid_a: torch.Tensor,
    valid_b: torch.Tensor,
    masked_a: torch.Tensor,
    masked_b: torch.Tensor,
    neighbours: torch.Tensor | None = None,
) -> LossTerms:
    """The weighted sum of every term for a batch of B tracks, each seen as two disjoint excerpts.

    view_a, view_b (B, T, F) features; valid_* (B, T) which segments exist; masked_* (B, T) which are hidden;
    neighbours (B, out_dim) unit vectors, for each track the nearest other tracks of the library (fixed, no
    gradient), or None for no neighbour term.
    """
    c = model.config
    states_a, proj_a = model(view_a, valid_a, masked_a)
    states_b, proj_b = model(view_b, valid_b, masked_b)
    masked = 0.5 * (
        masked_segment_loss(model, states_a, view_a, masked_a) + masked_segment_loss(model, states_b, view_b, masked_b)
    )
    za, zb = F.normalize(proj_a, dim=1), F.normalize(proj_b, dim=1)  # (B, out_dim)
    contrast = info_nce(za, zb, c.temperature, likely_false_negatives(model, view_a, view_b, valid_a, valid_b))
    both = torch.cat([za, zb])  # (2B, out_dim)
    uniform = uniformity(both)
    projections = torch.cat([proj_a, proj_b])
    variance = vicreg_variance(projections)
    covariance = vicreg_covariance(projections)
    # NNCLR (Dwibedi et al., 2021): a track's nearest other track in the current space is a positive too, so
    # what is close already (the same soundtrack, often) is drawn together and the rest pushed apart.
    if neighbours is None:
        neighbour = torch.zeros((), device=za.device)
    else:
        neighbour = 0.5 * (info_nce(za, neighbours, c.temperature) + info_nce(zb, neighbours, c.temperature))
    total = (
        c.w_masked * masked
        + c.w_contrast * contrast
        + c.w_uniformity * uniform
        + c.w_variance * variance
        + c.w_covariance * covariance
        + c.w_neighbour * neighbour
    )
    return LossTerms(total, masked, contrast, uniform, variance, covariance, neighbour)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
