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

from collections.abc import Sequence
from dataclasses import dataclass

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

# The gate. A slider is offered for ranking only when all of these hold:
# - at least GATE_MIN_RATINGS ratings, of which GATE_MIN_PER_SIDE below the middle and as many above: with fewer,
#   leave-one-out has too little to go on, and without both ends the word has no direction;
# - the skill, the weighted Spearman correlation between exact leave-one-out predictions and the ratings, is at
#   least GATE_MIN_SKILL, a correlation a listener would notice in a ranking;
# - the skill exceeds by GATE_SKILL_MARGIN the GATE_SHUFFLE_QUANTILE of the skills that the same pipeline (α
#   chosen afresh) reaches on GATE_SHUFFLES seeded shuffles of the ratings among the same tracks. A shuffle keeps
#   how many 1s, 3s and 5s there are and how the rated tracks cluster, so a skill that comes from those alone
#   does not light the slider; being seeded, the same ratings always get the same answer.
# The shuffles are the calibration: on real musicnn vectors the skill of random ratings is heavy-tailed (near-
# identical tracks rated alike by chance look like a pattern; its 99th percentile is about 0.5 at 40 ratings),
# so no fixed threshold suits every count. Share of sliders lit on 300 real musicnn vectors, for random ratings
# (500 sets per count, 200 at 100) and for ratings along x_a − x_b ("sounds like a, not b", 80 sets per count)
# with Gaussian noise of 0.5 or 1 standard deviation of that score:
#                          8 ratings   12     16     24     40     80    100
#   random                     -        -    0.4 %    -    0.4 %   -     0 %
#   direction, noise 0.5      0 %      4 %   24 %   69 %   99 %  100 %    -
#   direction, noise 1        0 %      3 %    8 %   16 %   56 %   96 %    -
# A margin of 0.1 lit more sliders rated along a direction (80 % at 24 ratings) but also 1.5 % of random ones
# at 100 ratings; 20 shuffles and their 95th percentile, plus 0.2, lit 3 % of random ones at 16 and at 40.
GATE_MIN_RATINGS = 8
GATE_MIN_PER_SIDE = 2
GATE_MIN_SKILL = 0.3
GATE_SKILL_MARGIN = 0.15
GATE_SHUFFLES = 100
GATE_SHUFFLE_QUANTILE = 0.99
GATE_SHUFFLE_SEED = 20240611

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

    ratings: how many. skill: the weighted Spearman correlation between exact leave-one-out predictions and the
    ratings (0 where undefined: fewer than 3 ratings, or all alike). shuffled_skill: the GATE_SHUFFLE_QUANTILE of
    the same statistic over seeded shuffles of the ratings, or None where it could not change the answer (too
    few ratings, or a skill below GATE_MIN_SKILL) and was not measured. lit: the slider may rank tracks. needs:
    one sentence for the listener, what the slider still needs or why it is lit. model: the fit the skill was
    measured on, to rank with when lit (None below 3 ratings or when all ratings are alike).
    """

    ratings: int
    skill: float
    shuffled_skill: float | None
    lit: bool
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


def _skill(predictions, ratings, weights) -> float:
    value = spearman(predictions, ratings, weights)
    return 0.0 if np.isnan(value) else value


def _tracks(count: int) -> str:
    return f"{count} more track" if count == 1 else f"{count} more tracks"


def _needs_more_ratings(low: int, high: int, total: int, low_label: str, high_label: str) -> str:
    missing_low = max(0, GATE_MIN_PER_SIDE - low)
    missing_high = max(0, GATE_MIN_PER_SIDE - high)
    more = max(GATE_MIN_RATINGS - total, missing_low + missing_high)
    if missing_low and missing_high:
        return f"Rate at least {_tracks(more)}, including some at both ends of the scale."
    if missing_low or missing_high:
        missing, label = (missing_low, low_label) if missing_low else (missing_high, high_label)
        which = "one" if missing == 1 else str(missing)
        return f"Rate at least {_tracks(more)}, including {which} that {'is' if missing == 1 else 'are'} {label}."
    return f"Rate at least {_tracks(more)}."


def slider_skill(
    vectors,
    ratings,
    weights=None,
    *,
    low_label: str = "clearly low",
    high_label: str = "clearly high",
    shuffles: int = GATE_SHUFFLES,
    seed: int = GATE_SHUFFLE_SEED,
) -> SliderSkill:
    """Measure whether a slider's ratings predict each other, and whether it may rank tracks (see the GATE_*).

    vectors (n, d), ratings (n,) and weights as for `fit_slider`. low_label / high_label finish the listener's
    sentence ("rate more tracks that are clearly dreamy or clearly not dreamy"), so pass what a 1 and a 5 mean,
    e.g. "clearly not dreamy" and "clearly dreamy". The skill is weighted as the fit is: each rating counts its
    weight times (see `spearman`). A shuffle moves each rating, with its extra weight, to another rated track.

    Cost: one fit, plus `shuffles` more once there are enough ratings and a skill of at least GATE_MIN_SKILL:
    about 30 ms at 50 ratings, 0.4 s at 500 and 2 s at 5000 (d = 200, one BLAS thread), against
    4 ms for `fit_slider` at 500. So refit for the ranking when a rating is saved, and measure the gate in the
    background; its answer depends on the ratings alone.
    """
    if shuffles < 1:
        raise ValueError(f"The gate needs at least one shuffle; got {shuffles}.")
    array, _ = rows_and_norms(vectors, "The rated tracks' vectors", allow_empty=True)
    values = check_ratings(ratings, array.shape[0])
    extra = _check_weights(weights, len(values))
    count = len(values)
    low = int((values < RATING_MIDDLE).sum())
    high = int((values > RATING_MIDDLE).sum())
    enough = count >= GATE_MIN_RATINGS and min(low, high) >= GATE_MIN_PER_SIDE

    model, skill, shuffled = None, 0.0, None
    if count >= 3 and values.min() < values.max():
        weights_all = rating_weight(values) * extra
        model = _fit(array, values, weights_all, ALPHA_GRID)
        skill = _skill(model.loo_predictions, values, weights_all)
        if enough and skill >= GATE_MIN_SKILL:
            shuffled = _shuffled_skill(array, values, extra, shuffles, seed)
    lit = shuffled is not None and skill >= shuffled + GATE_SKILL_MARGIN

    if not enough:
        needs = _needs_more_ratings(low, high, count, low_label, high_label)
    elif not lit:
        needs = f"The ratings do not yet predict each other: rate more tracks that are {high_label} or {low_label}."
    else:
        needs = (
            f"Lit: each of your {count} ratings is predicted from the others (rank correlation {skill:.2f}, "
            f"where shuffled ratings reach {shuffled:.2f}), so the slider can rank the catalogue."
        )
    return SliderSkill(ratings=count, skill=skill, shuffled_skill=shuffled, lit=lit, needs=needs, model=model)


def _shuffled_skill(vectors, ratings, extra, shuffles: int, seed: int) -> float:
    generator = np.random.default_rng(seed)
    skills = np.empty(shuffles)
    for index in range(shuffles):
        order = generator.permutation(len(ratings))
        shuffled = ratings[order]
        weights = rating_weight(shuffled) * extra[order]
        _, residuals, _, _ = _select_alpha(_spectrum(vectors, weights), shuffled, weights, ALPHA_GRID)
        skills[index] = _skill(shuffled - residuals, shuffled, weights)
    return float(np.quantile(skills, GATE_SHUFFLE_QUANTILE))


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
