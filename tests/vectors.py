"""Hand-made unit vectors for tests."""

import numpy as np


def random_unit_vectors(count: int, dim: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def make_tracks(count: int, prefix: str = "t"):
    from tracks.models import Track

    return Track.objects.bulk_create(
        Track(title=f"{prefix}{i}", source=Track.Source.FOLDER, source_key=f"{prefix}{i}.ogg") for i in range(count)
    )
