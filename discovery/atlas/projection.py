"""2-D layouts of a model's vectors: PCA for small corpora, UMAP for the rest, and Procrustes to keep a rebuild
where the last layout was. Pure NumPy except `fit_umap`, which imports umap (and so numba) only when called:
this module belongs to the worker and the management commands, never to a view.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# UMAP needs a neighbourhood to mean something; below this many tracks the map is a PCA plane.
UMAP_MIN_TRACKS = 100
UMAP_NEIGHBOURS = 15
# Fixed, so that the same vectors give the same map on every rebuild (UMAP is then single-threaded).
RANDOM_STATE = 42


@dataclass(frozen=True)
class Alignment:
    """y = scale * x @ rotation + shift: how a freshly fitted layout is turned onto the previous one."""

    scale: float = 1.0
    rotation: tuple = ((1.0, 0.0), (0.0, 1.0))
    shift: tuple = (0.0, 0.0)

    def apply(self, xy: np.ndarray) -> np.ndarray:
        return self.scale * np.asarray(xy, dtype=np.float64) @ np.asarray(self.rotation) + np.asarray(self.shift)

    def as_json(self) -> dict:
        return {"scale": self.scale, "rotation": [list(row) for row in self.rotation], "shift": list(self.shift)}

    @classmethod
    def from_json(cls, data: dict | None) -> Alignment:
        if not data:
            return cls()
        return cls(float(data["scale"]), tuple(tuple(row) for row in data["rotation"]), tuple(data["shift"]))


@dataclass(frozen=True)
class PcaFit:
    mean: np.ndarray  # (dim,)
    components: np.ndarray  # (2, dim)

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        return (np.asarray(vectors, dtype=np.float64) - self.mean) @ self.components.T

    def as_json(self) -> dict:
        return {"mean": self.mean.tolist(), "components": self.components.tolist()}

    @classmethod
    def from_json(cls, data: dict) -> PcaFit:
        return cls(np.asarray(data["mean"]), np.asarray(data["components"]))


def fit_pca(vectors: np.ndarray) -> PcaFit:
    """The plane of the two largest principal directions, signs fixed so that a refit does not mirror the map."""
    x = np.asarray(vectors, dtype=np.float64)
    mean = x.mean(axis=0)
    centred = x - mean
    if len(x) < 2:
        components = np.eye(2, x.shape[1])
    else:
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        components = np.zeros((2, x.shape[1]))
        components[: min(2, len(vt))] = vt[:2]
    # SVD's signs are arbitrary: make each direction's largest loading positive.
    for row in components:
        if row[np.argmax(np.abs(row))] < 0:
            row *= -1
    return PcaFit(mean, components)


def fit_umap(vectors: np.ndarray):
    """A fitted umap.UMAP (cosine metric, fixed random state); its `embedding_` holds the 2-D layout."""
    import umap  # the worker's only: numba compiles on first use and needs seconds and hundreds of MB

    reducer = umap.UMAP(
        n_components=2,
        n_neighbors=min(UMAP_NEIGHBOURS, len(vectors) - 1),
        metric="cosine",
        random_state=RANDOM_STATE,
        transform_seed=RANDOM_STATE,
        low_memory=True,
        n_jobs=1,  # what a fixed random_state implies anyway; said here so umap does not warn
    )
    reducer.fit(np.asarray(vectors, dtype=np.float32))
    return reducer


def procrustes(source: np.ndarray, target: np.ndarray) -> Alignment:
    """The similarity transform (scale, rotation or reflection, shift) taking `source` rows closest to `target`
    rows in least squares: how a rebuilt map is laid over the previous one on the tracks both hold."""
    a = np.asarray(source, dtype=np.float64)
    b = np.asarray(target, dtype=np.float64)
    if len(a) < 3:
        return Alignment(shift=tuple((b.mean(axis=0) - a.mean(axis=0)).tolist()) if len(a) else (0.0, 0.0))
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    a0, b0 = a - mean_a, b - mean_b
    u, s, vt = np.linalg.svd(a0.T @ b0)
    rotation = u @ vt
    spread = float((a0**2).sum())
    scale = float(s.sum() / spread) if spread > 0 else 1.0
    shift = mean_b - scale * mean_a @ rotation
    return Alignment(scale, tuple(map(tuple, rotation.tolist())), tuple(shift.tolist()))

