"""django-q2 tasks. They take primary keys and names, never model instances, and are idempotent."""

from __future__ import annotations

from embedding.base import AudioEmbedder, load_embedder
from embedding.services import embed_batch, register_model

# A worker process loads each model once and keeps it: loading musicnn takes about a second, MusicFM longer.
_embedders: dict[tuple[str, str], AudioEmbedder] = {}


def loaded_embedder(model_name: str, device: str = "auto") -> AudioEmbedder:
    key = (model_name, device)
    if key not in _embedders:
        _embedders[key] = load_embedder(model_name, device=device)
    return _embedders[key]


def embed_tracks(track_ids: list[int], model_name: str, device: str = "auto") -> dict:
    embedder = loaded_embedder(model_name, device)
    model = register_model(embedder)
    result = embed_batch(track_ids, embedder, model)
    return {"model": model_name, "ready": len(result.ready), "failed": len(result.failed)}
