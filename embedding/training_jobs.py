"""Queueing a training run for the worker, and what staff see of it. No torch here: the web process uses it."""

from __future__ import annotations

from django.conf import settings
from django_q.tasks import async_task

from embedding.models import TrainingRun

TRAINING_GROUP = "train:"
# The worker kills a task after Q_CLUSTER["timeout"] seconds; training stops itself well before that, keeping
# its best checkpoint, and reading the library's features comes out of the same allowance.
TASK_MARGIN_MINUTES = 10


def task_minutes_allowed() -> float:
    return max(1.0, settings.Q_CLUSTER.get("timeout", 1800) / 60 - TASK_MARGIN_MINUTES)


def latest_training_run() -> TrainingRun | None:
    return TrainingRun.objects.first()


def queue_training(name: str, epochs: int | None = None, max_minutes: float | None = None) -> TrainingRun:
    """A new run of `name` queued for the worker, unless one is already queued or running (that one is returned)."""
    running = TrainingRun.objects.filter(
        status__in=[TrainingRun.Status.QUEUED, TrainingRun.Status.FEATURES, TrainingRun.Status.TRAINING]
    ).first()
    if running is not None:
        return running
    allowed = task_minutes_allowed()
    minutes = allowed if max_minutes is None else min(max_minutes, allowed)
    run = TrainingRun.objects.create(name=name, epochs=epochs, max_minutes=minutes)
    async_task("embedding.tasks.train_embedder", run.pk, group=f"{TRAINING_GROUP}{name}")
    return run
