"""Sliders: a word a listener invents ("dreamy"), learnt from their 1–5 ratings over the track embeddings.

Pure functions over NumPy arrays; nothing here touches Django. The model is a weighted ridge regression with an
unpenalised intercept,

    minimise  Σ_i w_i (y_i − b − x_i·β)² + α‖β‖²,

whose α is chosen by exact leave-one-out cross-validation over `ALPHA_GRID`. One eigendecomposition serves every
α: write U = W^½(X − x̄_w) for the weighted-centred rows and Z for U's principal coordinates (Z Zᵀ = U Uᵀ,
Zᵀ Z = diag(s)). Then U (UᵀU + αI)⁻¹ Uᵀ = Z diag(1/(s + α)) Zᵀ, and the hat matrix of the problem with its
intercept as an unpenalised column is

    H = 1 wᵀ / Σw + W^-½ Z diag(1/(s + α)) Zᵀ W^½,     h_ii = w_i / Σw + Σ_k Z_ik² / (s_k + α).

The first term is the intercept's share: centring by the weighted mean is the same as adding an unpenalised
column of ones, whose weighted mean removes it from X, so the two terms are exactly the augmented problem's
leverage. The leave-one-out residual is e_i / (1 − h_ii), with no refit per rating; removing a rating also moves
the weighted means, and this identity accounts for it (the tests check it against refitting).

The eigendecomposition is of UᵀU (d × d) when there are at least as many ratings as dimensions, else of U Uᵀ
(n × n), so it is never larger than min(n, d) squared.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from discovery.lib.vectors import rows_and_norms

RATING_MIN, RATING_MAX = 1.0, 5.0
RATING_MIDDLE = (RATING_MIN + RATING_MAX) / 2

# A rating's weight grows linearly with its distance from the middle: 3 → 0.25, 2 and 4 → 0.625, 1 and 5 → 1.
# A 3 is the answer for "neither", "I can't tell" and "the word does not apply to this track" alike, so it says
# little about which way the word points; a 1 or a 5 is a deliberate statement. A 3 keeps a quarter rather than
# nothing because it does pin a track to the middle, which stops the fit from pushing such tracks to an end.
MIDDLE_RATING_WEIGHT = 0.25

# α in units of one rating: rows are unit vectors, so one full-weight rating adds at most 1 to the trace of
# XᵀWX (about 0.5 for musicnn, once centred). The grid runs from a tenth of a rating to a thousand ratings (close
# to predicting the ratings' mean everywhere), four steps per decade: neighbouring values differ by 1.8×, finer
# than leave-one-out can tell apart with a few dozen ratings. Below a tenth the fit comes close to interpolating
# the ratings; in the gate's calibration (below) lower floors (0.03, 0.001) lit no fewer sliders rated at random
# and slightly fewer whose ratings follow a direction. With hundreds of ratings the data outweigh any α on the
# lower half of the grid anyway.
ALPHA_GRID = np.logspace(-1.0, 3.0, 17)

# The gate: whether the ratings have taught the slider its word. It is looked at after every rating, so it is a
# sequential test, and its false-light rate is what a listener who rates at random sees over a whole session:
# the chance that the slider lights at any look, not at one. A slider is lit when all of these hold:
# - at least GATE_MIN_RATINGS ratings, of which GATE_MIN_PER_SIDE below the middle and as many above. Ten,
#   because a shuffle test can hardly light fewer: for a word whose ends are two soundtracks, the shuffles that
#   fit the sounds as well as the listener's ratings are those that keep the same tracks at each end (and, for
#   as many at each end, those that swap the ends): 1 or 2 in C(n, k), so a clear word's p-value is spread up
#   to 2 / C(n, n/2), 2.9 % at 8 ratings, 1.6 % at 9, 0.79 % at 10; a look that can seldom light a clear word
#   would mostly spend the false-light budget;
# - the skill, the correlation between the exact leave-one-out predictions (clipped to 1–5) and the ratings,
#   is at least GATE_MIN_SKILL, a correlation a listener would notice in a ranking (the minimum effect size);
# - the skill's permutation p-value, against the same statistic (ridge at GATE_ALPHAS) on the ratings shuffled among
#   the same tracks, is at most `gate_level(n)`. Under "the ratings do not depend on the sound" the ratings are
#   exchangeable among the rated tracks whatever their clusters, so a plain shuffle is the exact null: a shuffle
#   that happens to follow the clusters is as likely under the null as the listener's ratings are, and counting
#   it is what keeps the p-value honest (the old gate's margin over the shuffles' 99th percentile swung with it
#   instead). Up to GATE_EXACT_ARRANGEMENTS distinct orderings (ten ratings on four values) all are scored, an
#   exact p-value; beyond, with b shuffles of which k reach the skill, p = (k + 1) / (b + 1), valid for any b.
#   Shuffles come in batches and stop once GATE_EXCEEDANCES reach the skill (Besag and Clifford): ratings that
#   do not light cost a batch; only a slider about to light pays for the GATE_EXCEEDANCES / level shuffles.
# The level per look (`gate_level`): GATE_LEVEL_AT_10 at the tenth rating, and GATE_LATER_BUDGET shared by the
# looks 11 to GATE_SESSION in proportion to 1 / (n − 9)^GATE_LATER_DECAY. The first look is where a clear word
# must light and can: its p-value is spread up to 2 / C(10, 5) = 0.79 %, so 0.8 % is the smallest level that
# does not miss a balanced clear word, and most of the budget goes there. After it a real word's p-value falls
# by about a factor of two with each rating, so the later looks get a share that shrinks as slowly as the
# worker can afford (0.028 % at 11 ratings, 0.011 % at 14, 0.005 % at 20, 0.0011 % at 60). By the union bound,
# valid however the looks depend on each other, random ratings light a slider at some look of a 60-rating
# session with a chance of at most 0.8 % + 0.2 % = 1 %; on real vectors that is measured too, with the
# trade-off curve (bench/bench_sliders.py, docs/benchmarks.md). The look at ten ratings stands: later looks
# take it again on the first ten ratings (`_first_look`; the same event, so it spends nothing more), so that a
# slider lit then stays lit while its skill on all its ratings holds.
# Past GATE_SESSION ratings the test runs on a seeded sample of that many of them (a sample chosen without
# looking at the ratings keeps the null exact), so that a look costs what one at 60 ratings does rather than
# 360,000 refits of hundreds; each such look spends gate_level(GATE_SESSION) more, beyond the session's bound.
# The gate's own fit weighs every rated track alike (times its number of raters): the weights then belong to
# the tracks, not to the ratings, and one eigendecomposition serves every shuffle. The ranking head keeps the
# down-weighted middle ratings (MIDDLE_RATING_WEIGHT).
GATE_MIN_RATINGS = 10
GATE_MIN_PER_SIDE = 2
GATE_MIN_SKILL = 0.3
GATE_LEVEL_AT_10 = 0.008
GATE_LATER_BUDGET = 0.002
GATE_LATER_DECAY = 1.0
GATE_SESSION = 60
GATE_EXACT_ARRANGEMENTS = 30_000
GATE_EXCEEDANCES = 4
GATE_BATCH = 256
GATE_SHUFFLE_SEED = 20240611
# The gate's ridge penalty, fixed rather than chosen afresh for every shuffle: choosing it per ordering lets the
# shuffles fit as well as the ratings do, which widens their spread. On the dev corpus's real vectors α = 1
# alone lit 30 % of clear two-soundtrack words by ten ratings against 22 % for the best of five penalties (0.1
# to 1000), and words along a noisy direction sooner (96 % against 89 % at 40 ratings), with random ratings
# lighting no more often (0.8 % of sessions either way; docs/benchmarks.md); and one penalty costs each shuffle
# one refit instead of five. Unit vectors of 200 dimensions spread over about ten directions give eigenvalues of
# about n / 20 per direction, so α = 1 shrinks the weak directions and keeps the strong ones for any n here.
GATE_ALPHAS = np.array([1.0])


@dataclass(frozen=True)
class SliderModel:
    """A fitted slider: predict(x) = intercept + x·coef, on the 1–5 scale.

    alpha: the ridge penalty leave-one-out chose. x_mean (d,): the weighted mean of the rated vectors.
    coef_covariance (d, d): (X̃ᵀWX̃ + αI)⁻¹ over the weighted-centred rated vectors X̃; the coefficients'
    posterior covariance is residual_variance times it. residual_variance: the mean of w_i × (leave-one-out
    residual)², the squared error expected of a full-weight rating (a 1 or a 5). weight_total: Σw.
    weights (n,): each rating's weight as fitted. loo_predictions (n,): each rating's exact leave-one-out
    prediction at alpha. loo_error: their weighted mean squared error, the criterion α minimised.
    """

    coef: np.ndarray
    intercept: float
    alpha: float
    x_mean: np.ndarray
    coef_covariance: np.ndarray
    residual_variance: float
    weight_total: float
    weights: np.ndarray
    loo_predictions: np.ndarray
    loo_error: float

    @property
    def dim(self) -> int:
        return self.coef.shape[0]


@dataclass(frozen=True)
class SliderSkill:
    """Whether a slider's ratings have taught it the word, from `slider_skill`.

    ratings: how many. skill: the Pearson correlation between the gate's exact leave-one-out predictions and
    the ratings (0 where undefined: fewer than 3 ratings, or all alike). p_value: its permutation p-value, or
    None where it could not change the answer (too few ratings, or a skill below GATE_MIN_SKILL) and was not
    measured. level: what p_value must not exceed, gate_level(ratings) (gate_level(10) when the standing first
    look lit it). shuffles: how many were drawn. lit: the slider may rank tracks. agreement: the share of pairs
    of rated tracks at least two points apart that the ranking model's leave-one-out predictions put in the
    listener's order (`pairwise_agreement`).
    more: about how many more ratings it needs to light, or None (lit, or no estimate). needs: one sentence for
    the listener, what the slider still needs or how well it predicts. model: the ranking model (`fit_slider`),
    to rank with when lit (None below 3 ratings or when all ratings are alike).
    """

    ratings: int
    skill: float
    p_value: float | None
    level: float | None
    shuffles: int
    lit: bool
    agreement: float | None
    more: int | None
    needs: str
    model: SliderModel | None


def rating_weight(ratings) -> np.ndarray:
    """Each rating's weight, from MIDDLE_RATING_WEIGHT at the middle of the scale (3) to 1 at either end.

    Linear in the distance from the middle, so on 1–5: 3 → 0.25, 2 and 4 → 0.625, 1 and 5 → 1.
    """
    values = check_ratings(ratings)
    distance = np.abs(values - RATING_MIDDLE) / (RATING_MAX - RATING_MIDDLE)
    return MIDDLE_RATING_WEIGHT + (1.0 - MIDDLE_RATING_WEIGHT) * distance


def check_ratings(ratings, count: int | None = None) -> np.ndarray:
    """`ratings` as a float64 (n,) array on the 1–5 scale; ValueError otherwise."""
    values = np.asarray(ratings, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"Ratings must be a flat list of numbers; got shape {values.shape}.")
    if count is not None and len(values) != count:
        raise ValueError(f"Each rated track needs one rating; got {count} tracks and {len(values)} ratings.")
    if not np.isfinite(values).all():
        raise ValueError("Ratings must be numbers from 1 to 5; some are missing (NaN) or infinite.")
    if len(values) and (values.min() < RATING_MIN or values.max() > RATING_MAX):
        raise ValueError(
            f"Ratings must be from 1 to 5; got values from {values.min():g} to {values.max():g}."
        )
    return values


def _check_weights(weights, count: int) -> np.ndarray:
    if weights is None:
        return np.ones(count)
    values = np.asarray(weights, dtype=np.float64)
    if values.shape != (count,):
        raise ValueError(f"Each rating needs one weight; got {count} ratings and weights of shape {values.shape}.")
    if not np.isfinite(values).all() or (count and values.min() <= 0.0):
        raise ValueError("Weights must be positive finite numbers; leave a rating out rather than weigh it 0.")
    return values


def _check_alphas(alphas) -> np.ndarray:
    values = np.asarray(alphas, dtype=np.float64).reshape(-1)
    if len(values) == 0 or not np.isfinite(values).all() or values.min() <= 0.0:
        raise ValueError("The ridge penalties (alphas) must be one or more positive finite numbers.")
    return values


def _check_training_set(vectors, targets, weights):
    array, _ = rows_and_norms(vectors, "The rated tracks' vectors")
    y = np.asarray(targets, dtype=np.float64)
    if y.shape != (array.shape[0],):
        raise ValueError(
            f"Each rated track needs one rating; got {array.shape[0]} vectors and ratings of shape {y.shape}."
        )
    if not np.isfinite(y).all():
        raise ValueError("The ratings contain NaN or infinite values.")
    if len(y) < 2:
        raise ValueError(f"A slider needs at least 2 ratings to fit; got {len(y)}.")
    return array, y, _check_weights(weights, len(y))


@dataclass(frozen=True)
class _Spectrum:
    """The weighted-centred rows' principal coordinates (see the module docstring)."""

    x_mean: np.ndarray  # (d,)
    sqrt_weights: np.ndarray  # (n,)
    centred: np.ndarray  # (n, d) U = W^½ (X − x̄_w)
    coordinates: np.ndarray  # (n, r) Z
    eigenvalues: np.ndarray  # (r,) s
    basis: np.ndarray  # (d, r) eigenvectors of UᵀU, or (n, r) of U Uᵀ
    kernel_form: bool


def _spectrum(vectors: np.ndarray, weights: np.ndarray) -> _Spectrum:
    x_mean = weights @ vectors / weights.sum()
    sqrt_weights = np.sqrt(weights)
    centred = sqrt_weights[:, None] * (vectors - x_mean)
    count, dim = centred.shape
    kernel_form = count < dim
    if kernel_form:
        eigenvalues, basis = np.linalg.eigh(centred @ centred.T)
        eigenvalues = np.maximum(eigenvalues, 0.0)
        coordinates = basis * np.sqrt(eigenvalues)
    else:
        eigenvalues, basis = np.linalg.eigh(centred.T @ centred)
        eigenvalues = np.maximum(eigenvalues, 0.0)
        coordinates = centred @ basis
    return _Spectrum(x_mean, sqrt_weights, centred, coordinates, eigenvalues, basis, kernel_form)


def _loo_residuals(spectrum: _Spectrum, targets: np.ndarray, weights: np.ndarray, alphas: np.ndarray):
    """Exact leave-one-out residuals (len(alphas), n) and the weighted target mean."""
    y_mean = weights @ targets / weights.sum()
    scaled_targets = spectrum.sqrt_weights * (targets - y_mean)
    shrink = 1.0 / (spectrum.eigenvalues[:, None] + alphas[None, :])  # (r, G)
    projections = spectrum.coordinates.T @ scaled_targets  # (r,)
    fitted = spectrum.coordinates @ (projections[:, None] * shrink)  # (n, G), in W^½ units
    residuals = (scaled_targets[:, None] - fitted) / spectrum.sqrt_weights[:, None]
    leverage = (weights / weights.sum())[:, None] + (spectrum.coordinates**2) @ shrink
    return (residuals / (1.0 - leverage)).T, y_mean


def loo_predictions(vectors, targets, weights=None, alphas=ALPHA_GRID) -> np.ndarray:
    """Exact leave-one-out predictions of weighted ridge with an unpenalised intercept, one row per alpha.

    Row g, column i is what the model fitted without rating i, at penalty alphas[g], predicts for vector i.
    targets are any numbers (not only 1–5); weights default to 1 and must be positive. Shape (len(alphas), n).
    """
    array, y, w = _check_training_set(vectors, targets, weights)
    alphas = _check_alphas(alphas)
    residuals, _ = _loo_residuals(_spectrum(array, w), y, w, alphas)
    return y[None, :] - residuals


def fit_ridge(vectors, targets, weights=None, alphas=ALPHA_GRID) -> SliderModel:
    """Weighted ridge with an unpenalised intercept, α chosen among `alphas` by exact leave-one-out.

    The criterion is the weighted mean squared leave-one-out error, Σ w_i r_i² / Σ w_i, so a rating counts in
    choosing α as much as in the fit. Ties go to the larger α. weights default to 1 and must be positive.
    """
    array, y, w = _check_training_set(vectors, targets, weights)
    return _fit(array, y, w, _check_alphas(alphas))


def _select_alpha(spectrum: _Spectrum, targets, weights, alphas):
    residuals, y_mean = _loo_residuals(spectrum, targets, weights, alphas)
    errors = (residuals**2) @ weights / weights.sum()
    best = len(alphas) - 1 - int(np.argmin(errors[::-1]))
    return best, residuals[best], errors[best], y_mean


def _fit(vectors, targets, weights, alphas) -> SliderModel:
    spectrum = _spectrum(vectors, weights)
    best, residuals, error, y_mean = _select_alpha(spectrum, targets, weights, alphas)
    alpha = float(alphas[best])
    shrink = 1.0 / (spectrum.eigenvalues + alpha)
    scaled_targets = spectrum.sqrt_weights * (targets - y_mean)
    if spectrum.kernel_form:
        # Woodbury: (UᵀU + αI)⁻¹ = (I − Uᵀ (U Uᵀ + αI)⁻¹ U) / α, with U Uᵀ = P diag(s) Pᵀ.
        row_space = spectrum.centred.T @ spectrum.basis  # (d, n) Uᵀ P
        coef = row_space @ (shrink * (spectrum.basis.T @ scaled_targets))
        covariance = (np.eye(vectors.shape[1]) - (row_space * shrink) @ row_space.T) / alpha
    else:
        coef = spectrum.basis @ (shrink * (spectrum.coordinates.T @ scaled_targets))
        covariance = (spectrum.basis * shrink) @ spectrum.basis.T
    return SliderModel(
        coef=coef,
        intercept=float(y_mean - spectrum.x_mean @ coef),
        alpha=alpha,
        x_mean=spectrum.x_mean,
        coef_covariance=(covariance + covariance.T) / 2,
        residual_variance=float(weights @ residuals**2 / len(targets)),
        weight_total=float(weights.sum()),
        weights=weights,
        loo_predictions=targets - residuals,
        loo_error=float(error),
    )


def fit_slider(vectors, ratings, weights=None, alphas=ALPHA_GRID) -> SliderModel:
    """A slider's model from its ratings: `fit_ridge` with each rating weighted by `rating_weight`.

    vectors (n, d): the rated tracks' embeddings, one row per rating. ratings (n,): 1–5. weights (n,): optional
    extra positive weights (recency, say), multiplied into the rating weights.
    """
    array, _ = rows_and_norms(vectors, "The rated tracks' vectors")
    values = check_ratings(ratings, array.shape[0])
    extra = _check_weights(weights, len(values))
    if len(values) < 2:
        raise ValueError(f"A slider needs at least 2 ratings to fit; got {len(values)}.")
    return _fit(array, values, rating_weight(values) * extra, _check_alphas(alphas))


def average_ranks(values, weights=None) -> np.ndarray:
    """Mid-ranks of `values`, ties sharing the mean of the ranks they span; weighted, each value counts w times.

    Unweighted: 1-based ranks, so [10, 20, 20, 30] → [1, 2.5, 2.5, 4]. Weighted: the weight of the values
    below plus half the weight of the tied group, which is the unweighted mid-rank in the list where each value
    is repeated w times, less ½ (a shift that no correlation sees).
    """
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"Ranks need a flat list of numbers; got shape {x.shape}.")
    w = _check_weights(weights, len(x))
    order = np.argsort(x, kind="stable")
    sorted_x, sorted_w = x[order], w[order]
    starts = np.flatnonzero(np.r_[True, sorted_x[1:] != sorted_x[:-1]])
    group = np.cumsum(np.r_[True, sorted_x[1:] != sorted_x[:-1]]) - 1
    group_weight = np.add.reduceat(sorted_w, starts)
    below = np.cumsum(group_weight) - group_weight
    ranks = np.empty(len(x))
    ranks[order] = below[group] + group_weight[group] / 2
    return ranks + 0.5 if weights is None else ranks


def spearman(a, b, weights=None) -> float:
    """Spearman's rank correlation of a and b, ties at their average rank; NaN when either is constant.

    With weights, it is the Spearman correlation of the list in which each pair is repeated w times (exactly so
    for whole-number weights): weighted mid-ranks (`average_ranks`), then their weighted Pearson correlation.
    """
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"Spearman needs two flat lists of the same length; got shapes {x.shape} and {y.shape}.")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("Spearman needs finite numbers; got NaN or infinite values.")
    w = _check_weights(weights, len(x))
    if len(x) < 2:
        return float("nan")
    rank_x = average_ranks(x, w)
    rank_y = average_ranks(y, w)
    rank_x = rank_x - w @ rank_x / w.sum()
    rank_y = rank_y - w @ rank_y / w.sum()
    spread = np.sqrt((w @ rank_x**2) * (w @ rank_y**2))
    if spread == 0.0:
        return float("nan")
    return float(np.clip((w @ (rank_x * rank_y)) / spread, -1.0, 1.0))


def gate_level(
    count: int, first: float = GATE_LEVEL_AT_10, later_budget: float = GATE_LATER_BUDGET,
    decay: float = GATE_LATER_DECAY,
) -> float:
    """The p-value the gate asks of `count` ratings (see the GATE_* constants): `first` up to the tenth rating,
    then `later_budget` shared by the looks 11..GATE_SESSION as 1 / (n − 9)^decay, the last share kept beyond.
    It never rises with more ratings."""
    count = min(int(count), GATE_SESSION)
    if count <= GATE_MIN_RATINGS:
        return first
    looks = np.arange(2, GATE_SESSION - GATE_MIN_RATINGS + 2, dtype=np.float64)  # n − 9 for n = 11..60
    share = (count - GATE_MIN_RATINGS + 1) ** -decay / float((looks**-decay).sum())
    return min(first, later_budget * share)


def gate_budget(last: int = GATE_SESSION) -> float:
    """Σ gate_level(n) over the looks GATE_MIN_RATINGS..last: the union bound on a session's false-light rate."""
    return float(sum(gate_level(n) for n in range(GATE_MIN_RATINGS, last + 1)))


class _GateStatistic:
    """The gate's skill for many orderings of the same ratings at once: one eigendecomposition, a matrix product
    per α of `alphas` (GATE_ALPHAS: one), the α of least weighted leave-one-out error per ordering where there
    are several, then `_column_skill` per ordering."""

    def __init__(self, vectors: np.ndarray, ratings: np.ndarray, weights: np.ndarray, alphas=GATE_ALPHAS):
        self.spectrum = _spectrum(vectors, weights)
        self.weights = weights
        self.ratings = ratings
        self.alphas = np.asarray(alphas, dtype=np.float64)
        self.shrink = 1.0 / (self.spectrum.eigenvalues[:, None] + self.alphas[None, :])  # (r, G)
        self.leverage = (weights / weights.sum())[:, None] + (self.spectrum.coordinates**2) @ self.shrink  # (n, G)

    def __call__(self, orders: np.ndarray) -> np.ndarray:
        """Skills (b,) of the ratings reordered by each row of `orders` (b, n) of indices."""
        return self.skills(self.ratings[orders])

    def skills(self, arrangements: np.ndarray) -> np.ndarray:
        """Skills (b,) of each row of `arrangements` (b, n) as the ratings of the rated tracks."""
        spectrum, w = self.spectrum, self.weights
        targets = np.asarray(arrangements, dtype=np.float64).T  # (n, b)
        mean = w @ targets / w.sum()
        scaled = spectrum.sqrt_weights[:, None] * (targets - mean)
        projections = spectrum.coordinates.T @ scaled  # (r, b)
        best_error = np.full(targets.shape[1], np.inf)
        best = np.zeros_like(targets)
        # From the largest α down, replacing only on a strictly smaller error: ties go to the larger α.
        for index in range(len(self.alphas) - 1, -1, -1):
            fitted = spectrum.coordinates @ (projections * self.shrink[:, index, None])
            residuals = (scaled - fitted) / spectrum.sqrt_weights[:, None] / (1.0 - self.leverage[:, index, None])
            error = w @ residuals**2
            better = error < best_error
            best_error = np.where(better, error, best_error)
            best[:, better] = residuals[:, better]
        return _column_skill(targets - best, targets)

    def observed(self) -> float:
        return float(self(np.arange(len(self.ratings))[None, :])[0])


def _column_skill(predictions: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Pearson's correlation per column of (n, b) leave-one-out predictions, clipped to the 1–5 scale, with the
    (n, b) ratings; 0 where undefined. Clipping keeps one wild prediction (a track far from all the others) from
    deciding the correlation alone."""
    a = np.clip(predictions, RATING_MIN, RATING_MAX)
    a = a - a.mean(axis=0)
    b = targets - targets.mean(axis=0)
    spread = np.sqrt((a**2).sum(axis=0) * (b**2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(spread > 0, (a * b).sum(axis=0) / spread, 0.0)
    return np.clip(values, -1.0, 1.0)


@dataclass(frozen=True)
class PermutationTest:
    """What the shuffles said: p_value, how many were drawn, and the shuffled skills' mean and spread (for the
    estimate of how many more ratings would light the slider)."""

    skill: float
    p_value: float
    shuffles: int
    exceedances: int
    null_mean: float
    null_std: float
    passed: bool


def shuffled_skills(
    vectors, ratings, weights=None, *, most: int, stop_after: int | None = None, seed: int = GATE_SHUFFLE_SEED,
    batch: int = GATE_BATCH,
) -> tuple[float, np.ndarray]:
    """The gate's skill on the ratings, and on up to `most` seeded shuffles of them, in the order drawn.

    Shuffles come in batches of `batch`; with `stop_after`, no batch is drawn once that many shuffles have
    reached the skill. weights (n,) belong to the tracks and stay with them.
    """
    array, _ = rows_and_norms(vectors, "The rated tracks' vectors")
    values = check_ratings(ratings, array.shape[0])
    statistic = _GateStatistic(array, values, _check_weights(weights, len(values)))
    observed = statistic.observed()
    generator = np.random.default_rng(seed)
    parts, drawn, matched = [], 0, 0
    while drawn < most and (stop_after is None or matched < stop_after):
        size = min(batch, most - drawn)
        orders = generator.permuted(np.tile(np.arange(len(values)), (size, 1)), axis=1)
        parts.append(statistic(orders))
        matched += int(_reaches(parts[-1], observed).sum())
        drawn += size
    return observed, np.concatenate(parts) if parts else np.zeros(0)


def distinct_arrangements(ratings, most: int) -> np.ndarray | None:
    """Every distinct ordering of `ratings` (m, n), in lexicographic order, or None when there are more than
    `most`. Under the null each is equally likely, so the share of them at least as skilled is the exact
    p-value, free of the shuffles' sampling noise: what decides a slider of ten ratings of only 1s and 5s."""
    values = np.sort(np.asarray(ratings, dtype=np.float64))
    _, counts = np.unique(values, return_counts=True)
    total = math.factorial(len(values))
    for count in counts:
        total //= math.factorial(int(count))
    if total > most:
        return None
    rows = [values.copy()]
    current = values.copy()
    while True:
        # The next permutation in lexicographic order (Narayana's algorithm), which skips repeated values.
        pivot = len(current) - 2
        while pivot >= 0 and current[pivot] >= current[pivot + 1]:
            pivot -= 1
        if pivot < 0:
            return np.array(rows)
        successor = len(current) - 1
        while current[successor] <= current[pivot]:
            successor -= 1
        current[pivot], current[successor] = current[successor], current[pivot]
        current[pivot + 1 :] = current[pivot + 1 :][::-1].copy()
        rows.append(current.copy())


def _reaches(skills: np.ndarray, observed: float) -> np.ndarray:
    # A shuffle that ties the skill counts against lighting: rounding must never make a p-value smaller.
    return skills >= observed - 1e-12


def permutation_test(
    vectors, ratings, weights=None, *, level: float, seed: int = GATE_SHUFFLE_SEED,
    exceedances: int = GATE_EXCEEDANCES,
) -> PermutationTest:
    """The gate's p-value for ratings on rated `vectors`, decided at `level`.

    When the ratings have at most GATE_EXACT_ARRANGEMENTS distinct orderings (ten ratings on four of the five
    values or fewer do), every one is scored and the p-value is exact (`distinct_arrangements`). Otherwise
    shuffles in batches until `exceedances` of them reach the skill (p > level for sure) or until
    exceedances / level − 1 have been drawn; passed when fewer than `exceedances` reached it. Either way
    P(passed) ≤ level when the ratings do not depend on the sound. weights (n,) belong to the tracks and stay
    with them. Seeded: the same ratings always get the same answer.
    """
    most = int(np.ceil(exceedances / level)) - 1
    arrangements = distinct_arrangements(ratings, GATE_EXACT_ARRANGEMENTS)
    if arrangements is not None:
        array, _ = rows_and_norms(vectors, "The rated tracks' vectors")
        statistic = _GateStatistic(array, check_ratings(ratings, len(array)), _check_weights(weights, len(array)))
        observed = statistic.observed()
        skills = statistic.skills(arrangements)
        matched = int(_reaches(skills, observed).sum())  # the ratings themselves are among the arrangements
        p_value = matched / len(arrangements)
        return PermutationTest(
            observed, p_value, len(arrangements), matched, float(skills.mean()), float(skills.std()),
            p_value <= level,
        )
    observed, skills = shuffled_skills(vectors, ratings, weights, most=most, stop_after=exceedances, seed=seed)
    drawn, matched = len(skills), int(_reaches(skills, observed).sum())
    p_value = (matched + 1) / (drawn + 1)
    passed = drawn == most and matched < exceedances
    return PermutationTest(observed, p_value, drawn, matched, float(skills.mean()), float(skills.std()), passed)


# Pairs of ratings at least this far apart are the ones a listener means as "this, not that": a 4 beside a 5
# is often the same answer given twice, and counting such pairs would make a good slider sound like a coin.
AGREEMENT_MIN_GAP = 2.0


def pairwise_agreement(predictions, ratings, min_gap: float = AGREEMENT_MIN_GAP) -> float | None:
    """The share of pairs rated at least `min_gap` apart that `predictions` put in the same order (ties count
    half); None with no such pair. Above 2,000 ratings, over a seeded sample of 2,000 of them."""
    x = np.asarray(predictions, dtype=np.float64)
    y = np.asarray(ratings, dtype=np.float64)
    if len(x) > 2000:
        keep = np.random.default_rng(GATE_SHUFFLE_SEED).choice(len(x), 2000, replace=False)
        x, y = x[keep], y[keep]
    gap = y[:, None] - y[None, :]
    pairs = gap >= min_gap
    if not pairs.any():
        return None
    return float((np.sign(x[:, None] - x[None, :])[pairs] + 1).mean() / 2)


def _tracks(count: int) -> str:
    return f"{count} more track" if count == 1 else f"{count} more tracks"


def _needs_more_ratings(low: int, high: int, total: int, low_label: str, high_label: str) -> tuple[int, str]:
    missing_low = max(0, GATE_MIN_PER_SIDE - low)
    missing_high = max(0, GATE_MIN_PER_SIDE - high)
    more = max(GATE_MIN_RATINGS - total, missing_low + missing_high)
    if missing_low and missing_high:
        return more, f"Rate at least {_tracks(more)}, including some at both ends of the scale."
    if missing_low or missing_high:
        missing, label = (missing_low, low_label) if missing_low else (missing_high, high_label)
        which = "one" if missing == 1 else str(missing)
        return more, f"Rate at least {_tracks(more)}, including {which} you would call {label}."
    return more, f"Rate at least {_tracks(more)}."


# Beyond this many more ratings the estimate says only "many more": it assumes the skill stays as it is.
MORE_RATINGS_CAP = 40


def more_ratings_to_light(test: PermutationTest, count: int, high_share: float = 0.5) -> int | None:
    """About how many more ratings like these would light the slider, or None when the skill is no better than
    shuffled ratings'. Assumes the skill stays where it is, so that its distance from the shuffled skills, in
    their standard deviations, grows as the square root of the number of ratings; and that the ratings stay
    split between the ends as now (`high_share` of them above the middle), whose p-value cannot fall below
    2 / C(n, high ones) however clear the word: the shuffles that keep the same tracks at each end fit as well."""
    if test.null_std <= 0 or test.skill <= test.null_mean:
        return None
    z = (test.skill - test.null_mean) / test.null_std
    normal = NormalDist()
    for more in range(1, MORE_RATINGS_CAP + 1):
        total = count + more
        level = gate_level(total)
        floor = 2.0 / math.comb(total, min(total - 1, max(1, round(total * high_share))))
        if floor <= level and z * np.sqrt(total / count) >= normal.inv_cdf(1.0 - level):
            return more
    return MORE_RATINGS_CAP


def _session_sample(count: int, seed: int) -> np.ndarray:
    """Which ratings the gate tests: all of them up to GATE_SESSION, else a seeded sample of that many."""
    if count <= GATE_SESSION:
        return np.arange(count)
    return np.sort(np.random.default_rng([seed, count]).choice(count, GATE_SESSION, replace=False))


def _sides(ratings: np.ndarray) -> tuple[int, int]:
    """How many ratings are below the middle of the scale and how many above it."""
    return int((ratings < RATING_MIDDLE).sum()), int((ratings > RATING_MIDDLE).sum())


def gate_may_test(ratings: np.ndarray) -> bool:
    """Whether the gate tests these ratings at all: GATE_MIN_RATINGS of them, GATE_MIN_PER_SIDE at each end."""
    return len(ratings) >= GATE_MIN_RATINGS and min(_sides(ratings)) >= GATE_MIN_PER_SIDE


def _first_look(vectors: np.ndarray, ratings: np.ndarray, weights: np.ndarray, seed: int) -> PermutationTest | None:
    """The look at the first GATE_MIN_RATINGS ratings, taken again: its test when it passed, else None.

    The same ratings give the same answer, so this is the very event the budget at ten ratings was spent on,
    not a new look: a slider lit at ten ratings stays lit while its skill on all of them holds (the caller's
    condition), rather than going dark at the eleventh, whose level is thirty times smaller. It also keeps the
    look when the worker measured the ratings only after the eleventh had arrived.
    """
    first = slice(0, GATE_MIN_RATINGS)
    values = ratings[first]
    if not gate_may_test(values) or _GateStatistic(vectors[first], values, weights[first]).observed() < GATE_MIN_SKILL:
        return None
    test = permutation_test(
        vectors[first], values, weights[first], level=gate_level(GATE_MIN_RATINGS), seed=seed
    )
    return test if test.passed else None


def _number(count: int) -> str:
    words = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
    return words[count] if 0 <= count < len(words) else str(count)


def slider_skill(
    vectors,
    ratings,
    weights=None,
    *,
    low_label: str = "clearly low",
    high_label: str = "clearly high",
    seed: int = GATE_SHUFFLE_SEED,
) -> SliderSkill:
    """Measure whether a slider's ratings predict each other, and whether it may rank tracks (see the GATE_*).

    vectors (n, d), ratings (n,) and weights as for `fit_slider`, rows in the order the tracks were first
    rated (the look at ten ratings is the first ten rows'): weights (raters per track, say) stay with their
    tracks when the ratings are shuffled. low_label / high_label finish the listener's sentence ("rate
    about 3 more, including one you would call calm"), so pass what a 1 and a 5 mean.

    Cost: the ranking fit plus the gate's, then every ordering of ten ratings (up to GATE_EXACT_ARRANGEMENTS,
    0.1 s), or one batch of shuffles for ratings that do not light, and up to GATE_EXCEEDANCES / gate_level(n)
    for ratings that do (14,000 at eleven ratings, 360,000 from sixty on: seconds at d = 200). So refit
    for the ranking when a rating is saved, and measure the gate in the background; its answer depends on the
    ratings alone.
    """
    array, _ = rows_and_norms(vectors, "The rated tracks' vectors", allow_empty=True)
    values = check_ratings(ratings, array.shape[0])
    extra = _check_weights(weights, len(values))
    count = len(values)
    low, high = _sides(values)
    enough = gate_may_test(values)
    level = gate_level(count) if enough else None

    model, skill, test, agreement = None, 0.0, None, None
    if count >= 3 and values.min() < values.max():
        model = _fit(array, values, rating_weight(values) * extra, ALPHA_GRID)
        agreement = pairwise_agreement(model.loo_predictions, values)
        statistic = _GateStatistic(array, values, extra)
        skill = statistic.observed()
        if enough and skill >= GATE_MIN_SKILL:
            tested = _session_sample(count, seed)
            test = permutation_test(array[tested], values[tested], extra[tested], level=level, seed=seed)
            if not test.passed and count > GATE_MIN_RATINGS:
                standing = _first_look(array, values, extra, seed)
                if standing is not None:
                    test, level = standing, gate_level(GATE_MIN_RATINGS)
    lit = test is not None and test.passed

    more = None
    if not enough:
        more, needs = _needs_more_ratings(low, high, count, low_label, high_label)
    elif lit:
        tenths = int(np.floor(10 * agreement)) if agreement is not None else 0
        needs = (
            "Lit: given two tracks it has not seen, one you would rate at least two points above the other, it "
            f"orders them as you do {_number(tenths)} times out of ten. It can sort the catalogue now."
        )
    else:
        fewer = low_label if low <= high else high_label
        if test is not None:
            more = more_ratings_to_light(test, count, high / count)
        if more is None:
            needs = (
                "Your ratings do not follow the sound yet: tracks that sound alike got different ratings. Rate "
                f"about 10 more, the clearest you can find, including some you would call {fewer}."
            )
        elif more >= MORE_RATINGS_CAP:
            needs = f"It is learning slowly: rate many more, including some you would call {fewer}."
        else:
            which = "one" if more <= 2 else "some"
            needs = f"Rate about {_number(more)} more, including {which} you would call {fewer}."
    return SliderSkill(
        ratings=count, skill=skill, p_value=None if test is None else test.p_value, level=level,
        shuffles=0 if test is None else test.shuffles, lit=lit, agreement=agreement, more=more, needs=needs,
        model=model,
    )


def on_scale(prediction: float) -> float:
    """A prediction as a listener reads it: on the slider's own 1–5 scale (predictions beyond what anyone rated
    may fall outside it, and keep their order only in the ranking itself)."""
    return float(np.clip(prediction, RATING_MIN, RATING_MAX))


def _check_model_input(model: SliderModel, vectors) -> np.ndarray:
    array = np.asarray(vectors)
    if array.ndim != 2 or array.shape[1] != model.dim:
        raise ValueError(
            f"The slider was fitted on {model.dim}-dimensional vectors; got shape {array.shape}. Are all vectors "
            "from the same embedding model?"
        )
    return array if array.dtype == np.float32 else array.astype(np.float64, copy=False)


def predict(model: SliderModel, vectors) -> np.ndarray:
    """Each track's predicted rating, float64 (n,), on the 1–5 scale but not clipped to it.

    Tracks beyond what anyone rated may land below 1 or above 5; they keep their order (clipping would tie
    them), so clip only to display a value. float32 vectors (as stored) are multiplied in float32, within about
    1e-5 of float64 and without copying a catalogue; other dtypes in float64. Only the results are checked for
    NaN (which any NaN in a row produces), so a large catalogue is not scanned twice.
    """
    array = _check_model_input(model, vectors)
    values = (array @ model.coef.astype(array.dtype, copy=False)).astype(np.float64) + model.intercept
    if not np.isfinite(values).all():
        raise ValueError("Some vectors contain NaN or infinite values; embed those tracks again.")
    return values


def predictive_variance(model: SliderModel, vectors) -> np.ndarray:
    """The variance (n,) of each predicted rating, in rating units squared: residual_variance times
    `uncertainty`, the Bayesian reading of ridge. Largest for tracks unlike any rated one."""
    return model.residual_variance * uncertainty(model, vectors)


def uncertainty(model: SliderModel, vectors) -> np.ndarray:
    """1/Σw + (x − x̄)ᵀ (X̃ᵀWX̃ + αI)⁻¹ (x − x̄) for each vector (n,): how little the ratings pin its prediction
    down, whatever the ratings' noise (so it is defined even when every rating was the same)."""
    array, _ = rows_and_norms(_check_model_input(model, vectors), "The vectors", model.dim, allow_empty=True)
    centred = array - model.x_mean
    return 1.0 / model.weight_total + np.einsum("ij,ij->i", centred @ model.coef_covariance, centred)


def top_by_slider(model: SliderModel, vectors, track_ids: Sequence[int], count: int = 50, highest: bool = True):
    """The `count` tracks the slider rates highest (or lowest), best first: (track ids (k,), predictions (k,)).

    Ties keep catalogue order. k = min(count, number of tracks).
    """
    ids = np.asarray(track_ids)
    values = predict(model, vectors)
    if ids.shape != values.shape:
        raise ValueError(f"Each vector needs one track id; got {len(values)} vectors and {ids.size} ids.")
    count = min(int(count), len(values))
    if count <= 0:
        return ids[:0], values[:0]
    keys = -values if highest else values
    chosen = np.argpartition(keys, count - 1)[:count] if count < len(values) else np.arange(len(values))
    chosen = chosen[np.lexsort((chosen, keys[chosen]))]
    return ids[chosen], values[chosen]
