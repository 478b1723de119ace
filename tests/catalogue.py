"""A small embedded catalogue for station tests: tracks in sound clusters, with hand-made vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from embedding.models import EmbeddingModel, TrackEmbedding
from tracks.models import Track

DIM = 8
# Each cluster's own style tag, beside tags every track carries alike: the telling one a why line should quote.
STYLE_TAGS = ("folk", "metal", "soul", "blues", "house")


def make_catalogue(clusters: int = 3, per_cluster: int = 12, audio_dir: Path | None = None, seed: int = 0):
    """Tracks named "C<c> T<i>" by artist "Artist <c>-<i mod 4>" around `clusters` random directions.

    Returns (model, tracks by cluster). With `audio_dir` (recorded as a library root), every track gets a short
    real audio file.
    """
    rng = np.random.default_rng(seed)
    if audio_dir is not None:
        from tracks.roots import record_library_root

        record_library_root(audio_dir)  # as ingest_folder would: the site plays audio from library roots only
    model = EmbeddingModel.objects.create(name="test-model", dim=DIM, is_default=True)
    centres = rng.normal(size=(clusters, DIM))
    by_cluster = []
    for c in range(clusters):
        tracks = []
        for i in range(per_cluster):
            fields = {}
            if audio_dir is not None:
                from tests.audio_samples import music, write_clip

                path = write_clip(
                    audio_dir / f"c{c}-{i}.wav", seconds=1.5, signal=lambda s, r, c=c: music(s, r, seed=c)
                )
                fields["audio_path"] = str(path)
            track = Track.objects.create(
                title=f"C{c} T{i}", artist=f"Artist {c}-{i % 4}", source="folder", source_key=f"c{c}-{i}",
                status=Track.Status.READY, duration_s=200.0 + i, **fields,
            )
            vector = centres[c] + 0.35 * rng.normal(size=DIM)
            TrackEmbedding.objects.create(
                track=track, model=model, vector=vector / np.linalg.norm(vector),
                tags={"ambient": 0.5 + 0.01 * c, "rock": 0.1 * c, "jazz": 0.3, STYLE_TAGS[c % len(STYLE_TAGS)]: 0.4},
            )
            tracks.append(track)
        by_cluster.append(tracks)
    return model, by_cluster
