"""django-q2 tasks. They take primary keys and names, never model instances, and are idempotent."""

from __future__ import annotations

from embedding.base import AudioEmbedder, ModelUnavailable, load_embedder
from embedding.models import TrainingRun
from embedding.services import embed_batch, register_model
from embedding.training import train_library_model

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


def train_embedder(run_id: int, device: str = "auto") -> dict:
    """Train the model a staff member queued (embedding.training_jobs); a run already over is left alone."""
    run = TrainingRun.objects.filter(pk=run_id).first()
    if run is None or run.status in (TrainingRun.Status.FINISHED, TrainingRun.Status.STOPPED):
        return {"run": run_id, "skipped": True}
    try:
        summary = train_library_model(
            run.name, epochs=run.epochs, max_minutes=run.max_minutes, device=device, run=run
        )
    except (ValueError, ModelUnavailable) as error:
        # Too little music, or no musicnn: trying again changes nothing, so the run just says why.
        _fail(run, error)
        return {"run": run_id, "failed": str(error)}
    except Exception as error:
        _fail(run, error)
        raise
    return {"run": run_id, "name": run.name, "epochs": summary["epochs_done"], "stopped": summary["stopped"]}


def _fail(run: TrainingRun, error: Exception) -> None:
    run.status, run.message = TrainingRun.Status.FAILED, str(error)
    run.save(update_fields=["status", "message", "updated"])
