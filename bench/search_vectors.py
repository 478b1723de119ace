"""The search benchmark's synthetic vectors: random (isotropic) or shaped like real musicnn vectors, the corpus
made from them chunk by chunk, throughline-like queries, and how close their geometry comes to real music's.

Pure NumPy, no database: bench_search.py's module docstring says how each distribution is made and why.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MUSICNN_SAMPLE = ROOT / "tests" / "data" / "musicnn_sample.npy"
# Vectors are generated in chunks with a seed each, so track i gets the same vector whatever N is and a loaded
# corpus can be regenerated for exact search without reading it back.
CHUNK = 65_536
GEOMETRY_PERCENTILES = (5, 25, 50, 75, 95)


def unit_rows(array: np.ndarray) -> np.ndarray:
    return (array / np.linalg.norm(array, axis=-1, keepdims=True)).astype(np.float32)


def real_sample() -> np.ndarray:
    return unit_rows(np.load(MUSICNN_SAMPLE).astype(np.float32))


class Isotropic:
    name = "isotropic"

    def __init__(self, dim: int):
        self.dim = dim

    def marker(self) -> dict:
        return {"distribution": self.name}

    def sample(self, rng: np.random.Generator, count: int) -> np.ndarray:
        return rng.standard_normal((count, self.dim), dtype=np.float32)

    def directions(self, rng: np.random.Generator, count: int) -> np.ndarray:
        # Float64, as before there was a choice, so that isotropic runs keep their earlier queries.
        return rng.standard_normal((count, self.dim))


class MusicnnLike:
    """Real musicnn vectors, each blurred by covariance-shaped noise; see the module docstring."""

    name = "musicnn-like"

    def __init__(self, real: np.ndarray, spread: float):
        self.real, self.spread = real, spread
        self.dim = real.shape[1]
        self.mean = real.mean(axis=0)
        covariance = np.cov(real, rowvar=False)
        # With fewer real vectors than dimensions' worth of signal the smallest eigenvalues are near zero; the
        # jitter only keeps the factorisation from failing on them.
        jitter = 1e-9 * np.trace(covariance) / self.dim * np.eye(self.dim)
        self.shape = np.linalg.cholesky(covariance + jitter).astype(np.float32)

    def marker(self) -> dict:
        return {"distribution": self.name, "spread": self.spread}

    def sample(self, rng: np.random.Generator, count: int) -> np.ndarray:
        parents = rng.integers(0, len(self.real), size=count)
        noise = self.directions(rng, count)
        return self.mean + (self.real[parents] - self.mean + self.spread * noise) / np.sqrt(1 + self.spread**2)

    def directions(self, rng: np.random.Generator, count: int) -> np.ndarray:
        return rng.standard_normal((count, self.dim), dtype=np.float32) @ self.shape.T


def corpus_vectors(count: int, distribution, seed: int) -> np.ndarray:
    vectors = np.empty((count, distribution.dim), dtype=np.float32)
    for first in range(0, count, CHUNK):
        rng = np.random.default_rng([seed, first // CHUNK])
        rows = min(CHUNK, count - first)
        vectors[first : first + rows] = unit_rows(distribution.sample(rng, CHUNK))[:rows]
    return vectors


def cosine_spread(vectors: np.ndarray) -> dict:
    """Percentiles of the cosines of all pairs and of each row's nearest other row (unit rows)."""
    similarity = vectors @ vectors.T
    pairs = similarity[np.triu_indices(len(vectors), k=1)]
    np.fill_diagonal(similarity, -np.inf)
    return {
        "pair_cosine": np.percentile(pairs, GEOMETRY_PERCENTILES).round(3).tolist(),
        "nearest_cosine": np.percentile(similarity.max(axis=1), GEOMETRY_PERCENTILES).round(3).tolist(),
    }


def geometry_figures(corpus: np.ndarray, chunk: int = 131_072) -> dict:
    """The real sample against as many corpus rows, and each real vector's most similar corpus row."""
    real = real_sample()
    if real.shape[1] != corpus.shape[1]:
        return {"note": f"the real sample is {real.shape[1]}-d, the corpus {corpus.shape[1]}-d"}
    closest = np.full(len(real), -np.inf, dtype=np.float32)
    for first in range(0, len(corpus), chunk):
        closest = np.maximum(closest, (real @ corpus[first : first + chunk].T).max(axis=1))
    return {
        "percentiles": list(GEOMETRY_PERCENTILES),
        "real": cosine_spread(real),
        "synthetic": cosine_spread(corpus[: len(real)]),
        "real_to_nearest_corpus_row": np.percentile(closest, GEOMETRY_PERCENTILES).round(3).tolist(),
    }


def make_queries(
    kind: str, count: int, corpus: np.ndarray, rng: np.random.Generator, noise: float, distribution
) -> np.ndarray:
    if kind == "random":
        return unit_rows(distribution.sample(rng, count))
    directions = unit_rows(distribution.directions(rng, count))
    queries = []
    for direction in directions:
        picks = rng.choice(len(corpus), size=int(rng.integers(2, 4)), replace=False)
        centroid = unit_rows(corpus[picks].sum(axis=0))
        queries.append(unit_rows(centroid + noise * direction))
    return np.stack(queries)
