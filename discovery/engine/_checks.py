"""The argument checks of the ranking functions: each turns what a caller passed into the array or number the
maths needs, or raises ValueError with a sentence naming the argument and what is wrong with it.

Kept apart from ranking.py so that the scoring there reads as maths. Together with discovery.lib.vectors (unit
rows, knobs in [0, 1]) they run before any arithmetic, so malformed input is refused rather than turned into
NaN scores.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from discovery.lib.vectors import unit_rows


def ids(values, name: str) -> np.ndarray:
    """Track ids as a flat int64 array; empty input of any shape is no ids."""
    array = np.asarray(values)
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise ValueError(f"{name} must be a flat list of integer track ids.")
    return array.astype(np.int64)


def same_count(ids: np.ndarray, vectors: np.ndarray) -> None:
    if len(ids) != len(vectors):
        raise ValueError(f"Each candidate needs one id and one vector; got {len(ids)} ids and {len(vectors)} vectors.")


def optional_rows(vectors, name: str, dim: int) -> np.ndarray:
    """Unit rows, or a (0, dim) array when there are none, so that products with it need no special case."""
    if vectors is None or np.size(vectors) == 0:
        return np.zeros((0, dim))
    return unit_rows(vectors, name, dim)


def per_item(values: Sequence | None, count: int, name: str, default) -> list:
    """One entry per track, `default` for each when the caller gave none."""
    if values is None:
        return [default] * count
    values = list(values)
    if len(values) != count:
        raise ValueError(f"{name} needs one entry per track ({count}); got {len(values)}.")
    return values


def artist_codes(artists: Sequence | None, count: int) -> np.ndarray:
    """One integer per candidate for its artist, -1 where unknown (None or ""), so that the per-artist cap
    compares arrays of integers instead of artist keys."""
    codes = np.full(count, -1, dtype=np.int64)
    if artists is None:
        return codes
    artists = list(artists)
    if len(artists) != count:
        raise ValueError(f"artists needs one key per candidate ({count}); got {len(artists)}.")
    numbers: dict = {}
    for index, artist in enumerate(artists):
        if artist is not None and artist != "":
            codes[index] = numbers.setdefault(artist, len(numbers))
    return codes


def positive(value: float, name: str) -> float:
    number = float(value)
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a positive number; got {value}.")
    return number


def whole_number(value: int, name: str, minimum: int) -> int:
    # bool is an int subclass; True as a page size is a caller's mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be a whole number of at least {minimum}; got {value!r}.")
    return int(value)
