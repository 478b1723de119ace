"""The search benchmark's catalogue: synthetic tracks and their vectors COPYed into the database, the checks
that it only ever deletes tracks it made, and the reuse of a corpus an earlier run loaded (--skip-load)."""

from __future__ import annotations

import time

import numpy as np

from bench.search_output import refuse

SOURCE_KEY_PREFIX = "bench-search/"


def refuse_foreign_tracks() -> None:
    from tracks.models import Track

    foreign = Track.objects.exclude(source_key__startswith=SOURCE_KEY_PREFIX).count()
    if foreign:
        refuse(
            f"the database holds {foreign} tracks this benchmark did not make, and it deletes and reloads tracks. "
            "Point WAVELENGTH_DATA at an empty directory (or DATABASE_URL at an empty database) and run it again."
        )


def benchmark_model(name: str, dim: int):
    from embedding.models import EmbeddingModel

    model, _ = EmbeddingModel.objects.get_or_create(name=name, defaults={"dim": dim, "is_default": True})
    if model.dim != dim:
        refuse(f"the model {name} here stores {model.dim}-d vectors, not {dim}; use an empty database.")
    if not model.is_default:
        model.is_default = True
        model.save()
    return model


def clear_corpus() -> None:
    """Delete every track (refuse_foreign_tracks has checked they are all synthetic) with its vectors and thumbs."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE tracks_track, embedding_trackembedding, taste_thumb, taste_stationseed RESTART IDENTITY CASCADE"
        )


def load_corpus(model, vectors: np.ndarray, seed: int, distribution) -> tuple[dict, np.ndarray]:
    """Load one synthetic track per row of `vectors` into an empty catalogue; returns timings and track ids."""
    import psycopg
    from django.db import connection
    from django.utils import timezone
    from pgvector.psycopg import register_vector
    from psycopg.types.json import Jsonb

    from embedding.vector_index import drop_vector_index

    count = len(vectors)
    model.settings = {
        "synthetic": {"tracks": count, "seed": seed, **distribution.marker(), "made_by": "bench/bench_search.py"}
    }
    model.save()
    # The index is built once the rows are in, which is far faster than growing it row by row, and timed apart.
    drop_vector_index(model)

    figures = {}
    now = timezone.now()
    artists = max(1, count // 10)  # ten tracks per artist, so the per-artist cap on a page has work to do
    start = time.perf_counter()
    with psycopg.connect(**connection.get_connection_params()) as loader:
        register_vector(loader)
        with loader.cursor() as cursor:
            columns = (
                "title, artist, album, genre, source, source_key, preview_url, audio_file, audio_path, artwork_url, "
                "content_sha256, status, error, hidden, created, updated"
            )
            with cursor.copy(f"COPY tracks_track ({columns}) FROM STDIN") as copy:
                for i in range(count):
                    copy.write_row(
                        (f"Synthetic track {i}", f"Synthetic artist {i % artists}", "", "", "folder",
                         f"{SOURCE_KEY_PREFIX}{i:07d}", "", "", "", "", "", "ready", "", False, now, now)
                    )
            cursor.execute(
                "SELECT id FROM tracks_track WHERE source_key LIKE %s ORDER BY source_key", [f"{SOURCE_KEY_PREFIX}%"]
            )
            track_ids = np.array([row[0] for row in cursor.fetchall()], dtype=np.int64)
            figures["tracks_s"] = time.perf_counter() - start

            start = time.perf_counter()
            with cursor.copy(
                "COPY embedding_trackembedding (track_id, model_id, vector, tags, created) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["int8", "int8", "vector", "jsonb", "timestamptz"])
                no_tags = Jsonb({})
                for track_id, vector in zip(track_ids.tolist(), vectors):
                    copy.write_row((track_id, model.pk, vector, no_tags, now))
            figures["vectors_s"] = time.perf_counter() - start

    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE tracks_track")
        cursor.execute("VACUUM ANALYZE embedding_trackembedding")
    figures["vacuum_analyze_s"] = time.perf_counter() - start
    return figures, track_ids


def loaded_track_ids(model, count: int, seed: int, vectors: np.ndarray, distribution) -> np.ndarray:
    """The ids of an already loaded corpus, after checking it is the one the arguments describe."""
    from django.db import connection

    from embedding.models import TrackEmbedding

    # Corpora loaded before there was a choice of distribution were all isotropic.
    synthetic = {"distribution": "isotropic", **model.settings.get("synthetic", {})}
    wanted = {"tracks": count, "seed": seed, **distribution.marker()}
    if any(synthetic.get(key) != value for key, value in wanted.items()):
        described = ", ".join(f"{key} {value}" for key, value in wanted.items())
        refuse(f"--skip-load: the database holds no corpus with {described}; run without it.")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM tracks_track WHERE source_key LIKE %s ORDER BY source_key", [f"{SOURCE_KEY_PREFIX}%"]
        )
        track_ids = np.array([row[0] for row in cursor.fetchall()], dtype=np.int64)
    if len(track_ids) != count:
        refuse(f"--skip-load: found {len(track_ids)} synthetic tracks, not {count}; run without it.")
    rows = np.random.default_rng(seed).choice(count, size=min(5, count), replace=False)
    sampled = TrackEmbedding.objects.filter(model=model, track_id__in=track_ids[rows].tolist())
    stored = {track_id: np.asarray(vector) for track_id, vector in sampled.values_list("track_id", "vector")}
    for row in rows:
        vector = stored.get(int(track_ids[row]))
        if vector is None or vector.shape != vectors[row].shape or not np.allclose(vector, vectors[row]):
            refuse("--skip-load: the stored vectors are not the ones this seed makes; run without it.")
    return track_ids
