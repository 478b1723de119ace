"""Ratings a consistent listener would give, for tests that need a slider to light."""

import numpy as np

from embedding.models import TrackEmbedding


def hidden_direction_ratings(tracks, seed=0):
    """Ratings a listener would give if "dreamy" meant one direction in the embedding space."""
    direction = np.random.default_rng(seed).normal(size=8)
    direction /= np.linalg.norm(direction)
    vectors = {e.track_id: np.asarray(e.vector) for e in TrackEmbedding.objects.filter(track__in=tracks)}
    projections = np.array([vectors[t.pk] @ direction for t in tracks])
    ranks = projections.argsort().argsort() / (len(tracks) - 1)
    return direction, vectors, {t.pk: int(round(1 + 4 * r)) for t, r in zip(tracks, ranks)}
