"""A catalogue for map tests: tracks with hand-made unit vectors in a few clusters."""

from __future__ import annotations

import numpy as np

from embedding.models import EmbeddingModel, TrackEmbedding
from tracks.models import Track

DIM = 8


def map_model(name: str = "map-model") -> EmbeddingModel:
    return EmbeddingModel.objects.create(name=name, dim=DIM, is_default=True)


def add_tracks(model, count: int, clusters: int = 4, seed: int = 0, prefix: str = "t", album: str = "") -> list[int]:
    """`count` ready tracks around `clusters` fixed directions (the same for every seed), embedded by `model`."""
    centres = np.random.default_rng(1234).normal(size=(clusters, DIM))
    rng = np.random.default_rng(seed)
    tracks = Track.objects.bulk_create(
        Track(
            title=f"{prefix} {i}", artist=f"Artist {i % 7}", album=album or f"Album {i % clusters}",
            audio_path=f"/music/{prefix}-folder-{i % clusters}/{i}.ogg", source="folder",
            source_key=f"{prefix}-{seed}-{i}", status=Track.Status.READY,
        )
        for i in range(count)
    )
    rows = []
    for i, track in enumerate(tracks):
        vector = centres[i % clusters] + 0.3 * rng.normal(size=DIM)
        rows.append(
            TrackEmbedding(track=track, model=model, vector=vector / np.linalg.norm(vector),
                           tags={"ambient": 0.2, f"style{i % clusters}": 0.6})
        )
    TrackEmbedding.objects.bulk_create(rows)
    return [t.pk for t in tracks]


def coordinates(model) -> dict[int, tuple[float, float]]:
    from discovery.atlas.models import MapPoint

    return {t: (x, y) for t, x, y in MapPoint.objects.filter(layout__model=model).values_list("track_id", "x", "y")}
