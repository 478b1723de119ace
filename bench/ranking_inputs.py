"""Random ranking input of the size a real station sees, shared by the ranking benchmark and its tests."""

from __future__ import annotations

import numpy as np

from discovery.engine.profile import build_anchors
from discovery.engine.ranking import RankingInput


def station_sized_input(n: int = 500, m: int = 30, d: int = 200, seed: int = 0) -> RankingInput:
    """Random input of the size a station sees: n candidates, m anchors (5 seeds, the rest likes), d dimensions,
    10 dislikes, 60 shown tracks, a 2,000-track corpus sample and 50 tags per track."""
    rng = np.random.default_rng(seed)

    def unit(count: int) -> np.ndarray:
        vectors = rng.normal(size=(count, d))
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    tag_names = [f"tag{index}" for index in range(50)]

    def tags() -> dict[str, float]:
        return dict(zip(tag_names, rng.random(len(tag_names)).tolist()))

    seed_count = min(m, 5)
    anchors = build_anchors(
        seed_ids=np.arange(1, seed_count + 1),
        seed_vectors=unit(seed_count),
        seed_ages_s=np.full(seed_count, 3 * 24 * 3600.0),
        like_ids=np.arange(seed_count + 1, m + 1),
        like_vectors=unit(m - seed_count),
        like_ages_s=rng.uniform(0, 3 * 24 * 3600.0, size=m - seed_count),
    )
    return RankingInput(
        candidate_ids=np.arange(1000, 1000 + n),
        candidate_vectors=unit(n),
        anchors=anchors,
        anchor_titles=[f"Anchor {index}" for index in range(m)],
        near_duplicate_cosine=0.97,
        candidate_artists=[f"artist{index}" for index in rng.integers(0, n // 3, size=n)],
        candidate_tags=[tags() for _ in range(n)],
        anchor_tags=[tags() for _ in range(m)],
        disliked_vectors=unit(10),
        shown_vectors=unit(60),
        seed_ids=anchors.track_ids[:seed_count],
        thumbed_ids=np.arange(seed_count + 1, m + 11),
        corpus_sample=unit(2000),
    )
