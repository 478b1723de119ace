"""Constellations: the two-tower recommender's inference and its evaluation, in pure NumPy.

The query tower pools an anchor set (seeds and likes) by attention and refines the pooled vector by a residual
linear map; the track tower passes track vectors through, or through a learnt projection once training let it
move. Scores are cosines between the two. Training happens in the worker with torch
(discovery/atlas/two_tower_model.py); the web process only runs these functions over the exported weights.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from discovery.lib.vectors import unit_rows

NDCG_K = 20


@dataclass(frozen=True)
class TwoTowerWeights:
    attention_in: np.ndarray  # (d, h): anchors → attention features
    attention_bias: np.ndarray  # (h,)
    attention_out: np.ndarray  # (h,): features → one score per anchor
    residual: np.ndarray  # (d, d): pooled → pooled + pooled @ residual
    item_projection: np.ndarray | None  # (d, d) or None while the track tower is a pass-through

    @property
    def dim(self) -> int:
        return self.attention_in.shape[0]

    def as_json(self) -> dict:
        return {
            "attention_in": self.attention_in.tolist(),
            "attention_bias": self.attention_bias.tolist(),
            "attention_out": self.attention_out.tolist(),
            "residual": self.residual.tolist(),
            "item_projection": None if self.item_projection is None else self.item_projection.tolist(),
        }

    @classmethod
    def from_json(cls, data: dict) -> TwoTowerWeights:
        projection = data.get("item_projection")
        return cls(
            np.asarray(data["attention_in"], dtype=np.float64),
            np.asarray(data["attention_bias"], dtype=np.float64),
            np.asarray(data["attention_out"], dtype=np.float64),
            np.asarray(data["residual"], dtype=np.float64),
            None if projection is None else np.asarray(projection, dtype=np.float64),
        )


def attention_weights(weights: TwoTowerWeights, anchors: np.ndarray) -> np.ndarray:
    """(k,) softmax weights of the k anchors: score_i = attention_out · tanh(anchor_i @ attention_in + bias)."""
    scores = np.tanh(anchors @ weights.attention_in + weights.attention_bias) @ weights.attention_out
    scores = scores - scores.max()
    exp = np.exp(scores)
    return exp / exp.sum()


def query_vector(weights: TwoTowerWeights, anchors) -> np.ndarray:
    """The query tower: the unit vector an anchor set (k, d) asks for next."""
    x = unit_rows(anchors, "anchors", dim=weights.dim)
    pooled = attention_weights(weights, x) @ x
    refined = pooled + pooled @ weights.residual
    return refined / max(float(np.linalg.norm(refined)), 1e-12)


def item_vectors(weights: TwoTowerWeights, vectors) -> np.ndarray:
    """The track tower: unit rows, through the learnt projection when there is one."""
    x = unit_rows(vectors, "tracks", dim=weights.dim)
    if weights.item_projection is None:
        return x
    return unit_rows(x @ weights.item_projection, "projected tracks")


def centroid_query(anchors) -> np.ndarray:
    """Today's throughline: the normalised mean of the anchors."""
    x = unit_rows(anchors, "anchors")
    mean = x.mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


def r_precision(ranked_ids: Sequence[int], relevant: set[int]) -> float:
    """The share of the top-R ranked that are relevant, R being how many are relevant."""
    if not relevant:
        return 0.0
    top = ranked_ids[: len(relevant)]
    return sum(1 for i in top if i in relevant) / len(relevant)


def ndcg_at_k(ranked_ids: Sequence[int], relevant: set[int], k: int = NDCG_K) -> float:
    """Binary-relevance NDCG of the first k ranked ids."""
    gains = np.array([1.0 if i in relevant else 0.0 for i in ranked_ids[:k]])
    discounts = 1.0 / np.log2(np.arange(2, len(gains) + 2))
    ideal = discounts[: min(len(relevant), k)].sum()
    return float((gains * discounts[: len(gains)]).sum() / ideal) if ideal else 0.0


@dataclass(frozen=True)
class Evaluation:
    r_precision: float
    ndcg20: float
    queries: int


def split_query(members: Sequence[int]) -> tuple[list[int], set[int]]:
    """A held-out set as a query: its first half (at least one) are the anchors, the rest are to be found."""
    count = max(1, len(members) // 2)
    return list(members[:count]), set(members[count:])


def evaluate(
    sets: Sequence[Sequence[int]],
    corpus_ids: np.ndarray,
    corpus_vectors: np.ndarray,
    query: Callable[[np.ndarray], np.ndarray],
    items: Callable[[np.ndarray], np.ndarray] = lambda v: v,
    k: int = NDCG_K,
) -> Evaluation:
    """R-precision and NDCG@k of the held-out members of each set, ranking the whole corpus (less the anchors)
    by cosine between `query(anchor vectors)` and `items(corpus vectors)`."""
    position = {int(pk): row for row, pk in enumerate(corpus_ids)}
    item_matrix = items(corpus_vectors)
    rp, nd = [], []
    for members in sets:
        members = [m for m in members if m in position]
        if len(members) < 2:
            continue
        anchors, relevant = split_query(members)
        q = query(corpus_vectors[[position[a] for a in anchors]])
        scores = item_matrix @ q
        scores[[position[a] for a in anchors]] = -np.inf
        depth = max(k, len(relevant))
        top = np.argpartition(-scores, min(depth, len(scores) - 1))[:depth]
        ranked = [int(corpus_ids[row]) for row in top[np.argsort(-scores[top])]]
        rp.append(r_precision(ranked, relevant))
        nd.append(ndcg_at_k(ranked, relevant, k))
    if not rp:
        return Evaluation(0.0, 0.0, 0)
    return Evaluation(float(np.mean(rp)), float(np.mean(nd)), len(rp))
