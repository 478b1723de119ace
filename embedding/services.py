"""Turning tracks into stored vectors: which tracks, in what batches, and what happens when one fails.

Nothing here imports torch at module level: the web process enqueues work through this module, and only the
worker (or `embed --sync`) loads a model.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django_q.tasks import async_task

from embedding.base import DEFAULT_MODEL, AudioEmbedder, ModelUnavailable
from embedding.dedup import link_near_duplicates
from embedding.models import EmbeddingModel, TrackEmbedding
from tracks.audio import AudioDecodeError, DecodedAudio, decode_many
from tracks.models import Track
from tracks.services import file_label

log = logging.getLogger(__name__)

TASK_GROUP_PREFIX = "embed:"


@dataclass
class BatchResult:
    ready: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)  # track id -> reason


def default_model_name() -> str:
    model = EmbeddingModel.default()
    return model.name if model else DEFAULT_MODEL


def register_model(embedder: AudioEmbedder) -> EmbeddingModel:
    """The EmbeddingModel row for a loaded embedder, created on first use and kept in step with it."""
    model, created = EmbeddingModel.objects.get_or_create(
        name=embedder.name,
        defaults={"dim": embedder.dim, "settings": embedder.settings, "weights_sha256": embedder.weights_sha256},
    )
    if created:
        return model
    if model.dim != embedder.dim:
        if model.embeddings.exists():
            raise ModelUnavailable(
                f"The stored {model.name} vectors have {model.dim} dimensions but the loaded model makes "
                f"{embedder.dim}. Register it under another name, or delete the old vectors first."
            )
        model.dim = embedder.dim
    if model.weights_sha256 and model.weights_sha256 != embedder.weights_sha256 and model.embeddings.exists():
        log.warning(
            "The %s weights changed since its vectors were made; run `manage.py embed --model %s --all` to "
            "bring them in line.", model.name, model.name,
        )
    if (model.settings, model.weights_sha256) != (embedder.settings, embedder.weights_sha256):
        model.settings, model.weights_sha256 = embedder.settings, embedder.weights_sha256
        model.save()
    return model


def tracks_needing(model_name: str) -> Iterable[int]:
    """Ids of tracks waiting for `model_name`: marked pending, or never embedded by it and not known broken."""
    embedded = TrackEmbedding.objects.filter(track=OuterRef("pk"), model__name=model_name)
    return (
        Track.objects.filter(Q(status=Track.Status.PENDING) | (~Exists(embedded) & ~Q(status=Track.Status.FAILED)))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def batches(ids: Sequence[int], size: int) -> list[list[int]]:
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


def _decode_tracks(tracks: list[Track], sample_rate: int) -> tuple[dict[int, DecodedAudio], dict[int, str]]:
    decoded: dict[int, DecodedAudio] = {}
    failed: dict[int, str] = {}
    with_files = []
    for track in tracks:
        path = track.local_audio_path
        if path is None and track.source == Track.Source.FOLDER:
            path = Path(track.source_key)  # a folder track always names its file
        if path is not None:
            with_files.append((track.pk, path, file_label(track)))
        elif track.preview_url:
            failed[track.pk] = "The track has no audio file on this server (only a remote preview link)."
        else:
            failed[track.pk] = (
                f"“{file_label(track)}” was not kept on this server (it could not be read when it was added); "
                "add the file again."
            )
    paths = [path for _, path, _ in with_files]
    names = [name for _, _, name in with_files]
    for (pk, _, _), (_, result) in zip(with_files, decode_many(paths, sample_rate, workers=2, names=names)):
        if isinstance(result, AudioDecodeError):
            failed[pk] = str(result)
        else:
            decoded[pk] = result
    return decoded, failed


def _embed_isolating_failures(embedder: AudioEmbedder, clips: dict[int, np.ndarray]):
    """Embed all clips at once; if the batch fails, embed one by one so that only the culprit fails."""
    ids = list(clips)
    try:
        batch = embedder.embed([clips[pk] for pk in ids])
        return {pk: (batch.vectors[i], batch.tags[i] if batch.tags else {}) for i, pk in enumerate(ids)}, {}
    except ModelUnavailable:
        raise
    except (ValueError, RuntimeError) as error:
        if len(ids) == 1:
            return {}, {ids[0]: f"The model could not embed this audio: {error}"}
        log.warning("Batch of %d failed (%s); embedding one by one", len(ids), error)
    results, failed = {}, {}
    for pk in ids:
        one, reason = _embed_isolating_failures(embedder, {pk: clips[pk]})
        results.update(one)
        failed.update(reason)
    return results, failed


def embed_batch(track_ids: Sequence[int], embedder: AudioEmbedder, model: EmbeddingModel) -> BatchResult:
    """Decode, embed and store one batch; each track ends ready or failed with a reason. Idempotent."""
    tracks = list(Track.objects.filter(pk__in=track_ids))
    decoded, failed = _decode_tracks(tracks, embedder.sample_rate)
    vectors, embed_failures = _embed_isolating_failures(embedder, {pk: d.samples for pk, d in decoded.items()})
    failed.update(embed_failures)

    with transaction.atomic():
        TrackEmbedding.objects.bulk_create(
            [TrackEmbedding(track_id=pk, model=model, vector=v, tags=tags) for pk, (v, tags) in vectors.items()],
            update_conflicts=True,
            unique_fields=["track", "model"],
            update_fields=["vector", "tags"],
        )
        for pk in vectors:
            warnings = " ".join(decoded[pk].warnings)
            Track.objects.filter(pk=pk).update(status=Track.Status.READY, error=warnings)
        for pk, reason in failed.items():
            Track.objects.filter(pk=pk).update(status=Track.Status.FAILED, error=reason)
    link_near_duplicates(vectors.keys(), model)
    return BatchResult(ready=list(vectors), failed=failed)


def enqueue_embedding(
    track_ids: Sequence[int], model_name: str | None = None, batch_size: int | None = None, device: str | None = None
) -> int:
    """Queue `track_ids` for the worker in batches; returns how many tasks were queued."""
    model_name = model_name or default_model_name()
    device = device or settings.EMBED_DEVICE
    chunks = batches(list(track_ids), batch_size or settings.EMBED_BATCH_SIZE)
    for chunk in chunks:
        async_task(
            "embedding.tasks.embed_tracks", chunk, model_name, device, group=f"{TASK_GROUP_PREFIX}{model_name}"
        )
    return len(chunks)


def mark_pending_and_enqueue(track_ids: Sequence[int]) -> int:
    """Curators' "embed again" and "retry": the tracks go back to pending (old vectors stay until replaced) and
    queue; the worker reads each file again, and a file that still fails records why, afresh.

    A failed track with no file on this server to read again (an upload or preview that could not be read
    was never stored) keeps its status and its reason: nothing new could be learnt about it.
    """
    tracks = Track.objects.filter(pk__in=track_ids)
    nothing_to_read = tracks.filter(status=Track.Status.FAILED, audio_file="", audio_path="").exclude(
        source=Track.Source.FOLDER
    )
    ids = list(tracks.exclude(pk__in=nothing_to_read).values_list("pk", flat=True))
    Track.objects.filter(pk__in=ids).update(status=Track.Status.PENDING, error="")
    return enqueue_embedding(ids)
