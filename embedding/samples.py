"""Random samples of a model's vectors, for figures relative to the whole catalogue.

"Closer than 99 % of the catalogue" and the telling tags in a why line, the spread of a slider's predictions
and the pool a slider's "rate more" queue draws from all need the catalogue's distribution, not all of it:
about two thousand random tracks do.
"""

from __future__ import annotations

import time

import numpy as np
from django.db import connection

from embedding.models import EmbeddingModel
from embedding.vector_index import track_vectors

CORPUS_SAMPLE_SIZE = 2000
CORPUS_SAMPLE_TTL_S = 600

_corpus_samples: dict[int, tuple[float, np.ndarray, np.ndarray]] = {}
_corpus_tag_means: dict[int, tuple[float, dict[str, float]]] = {}


def corpus_sample_with_ids(model: EmbeddingModel) -> tuple[np.ndarray, np.ndarray]:
    """About CORPUS_SAMPLE_SIZE random (track ids, vectors) of `model`; cached per process for a while.

    The same rows come back until the catalogue changes (a seeded sample), so pages are stable.
    """
    cached = _corpus_samples.get(model.pk)
    if cached and time.monotonic() - cached[0] < CORPUS_SAMPLE_TTL_S:
        return cached[1], cached[2]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM embedding_trackembedding WHERE model_id = %s", [model.pk])
        total = cursor.fetchone()[0]
        # Block sampling reads only the pages it keeps (ORDER BY random() sorts the table, BERNOULLI reads all
        # of it: 200 ms at a million tracks against 26 ms). Its price is a clumpier sample where neighbouring
        # rows are alike, such as an album imported together, which the figures built on it can bear.
        percent = min(100.0, 100.0 * 1.2 * CORPUS_SAMPLE_SIZE / max(total, 1))
        cursor.execute(
            f"SELECT track_id FROM embedding_trackembedding TABLESAMPLE SYSTEM ({percent:.6f}) "
            "REPEATABLE (42) WHERE model_id = %s LIMIT %s",
            [model.pk, CORPUS_SAMPLE_SIZE],
        )
        sample_ids = sorted(row[0] for row in cursor.fetchall())
    found = track_vectors(model, sample_ids)
    ids = np.array([pk for pk in sample_ids if pk in found], dtype=np.int64)
    vectors = np.array([found[pk][0] for pk in ids], dtype=np.float32).reshape(len(ids), model.dim)
    _corpus_samples[model.pk] = (time.monotonic(), ids, vectors)
    return ids, vectors


def corpus_sample(model: EmbeddingModel) -> np.ndarray:
    return corpus_sample_with_ids(model)[1]


def corpus_tag_means(model: EmbeddingModel) -> dict[str, float]:
    """{tag: mean probability over the corpus sample} for `model` ({} for a model without tags); cached like the
    sample. A track without a tag counts as 0 for it."""
    cached = _corpus_tag_means.get(model.pk)
    if cached and time.monotonic() - cached[0] < CORPUS_SAMPLE_TTL_S:
        return cached[1]
    sample_ids = corpus_sample_with_ids(model)[0]
    means: dict[str, float] = {}
    if len(sample_ids):
        # From the stored tags, all of them: the few kept per track in memory would make the tags that are
        # rarely among a track's strongest look rarer than they are. One aggregate over ~2,000 rows.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tag.key, sum(tag.value::float8) FROM embedding_trackembedding, "
                "jsonb_each_text(tags) AS tag WHERE model_id = %s AND track_id = ANY(%s) GROUP BY tag.key",
                [model.pk, sample_ids.tolist()],
            )
            means = {key: float(total) / len(sample_ids) for key, total in cursor.fetchall()}
    _corpus_tag_means[model.pk] = (time.monotonic(), means)
    return means


