"""Checks that turn what callers pass into clean float64 arrays, with errors that name the culprit.

Every vector maths function of the project (ranking, taste profiles, sliders) starts with one of these, so a
NaN, a zero row or a vector of another model's dimension is refused with a sentence instead of spreading.
"""

from __future__ import annotations

import numpy as np


def rows_and_norms(vectors, name: str, dim: int | None = None, allow_empty: bool = False):
    """`vectors` as a float64 (k, d) array and its row norms (k,), all finite and non-zero; ValueError naming
    `name` otherwise."""
    array = np.asarray(vectors, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (tracks × dimensions); got shape {array.shape}.")
    if array.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name} is empty; at least one vector is needed.")
    if dim is not None and array.shape[1] != dim:
        raise ValueError(
            f"{name} has {array.shape[1]} dimensions where {dim} were expected; are all vectors from the same "
            "embedding model?"
        )
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values; embed those tracks again.")
    norms = np.sqrt(np.einsum("ij,ij->i", array, array))
    if array.shape[0] and norms.min() == 0.0:
        raise ValueError(
            f"{name} row {int(np.argmin(norms))} is a zero vector, which points nowhere; embed that track again."
        )
    return array, norms


def unit_rows(vectors, name: str, dim: int | None = None, allow_empty: bool = False) -> np.ndarray:
    """`vectors` as a float64 (k, d) array of unit rows; ValueError naming `name` if it cannot be one.

    Stored vectors are already unit length; normalising again costs little and makes every dot product an
    exact cosine even for vectors that came from elsewhere.
    """
    array, norms = rows_and_norms(vectors, name, dim, allow_empty)
    return array / norms[:, None]


def unit_vector(vector, name: str, dim: int | None = None) -> np.ndarray:
    """`vector` as a float64 (d,) unit vector; ValueError naming `name` if it cannot be one."""
    array = np.asarray(vector, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D vector; got shape {array.shape}.")
    return unit_rows(array[None, :], name, dim)[0]


def unit_interval(value: float, name: str) -> float:
    """`value` as a float in [0, 1]; ValueError naming `name` otherwise."""
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1; got {value}.")
    return number
