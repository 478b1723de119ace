"""The map follows embedding: each finished embedding batch (re)arms one delayed refresh per model, so a
thousand batches in a row cost one map build, a minute after the last of them."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.dispatch import receiver
from django.utils import timezone
from django_q.signals import post_execute_in_worker

EMBED_TASK = "embedding.tasks.embed_tracks"
REFRESH_TASK = "discovery.atlas.tasks.refresh_map"


def refresh_delay_s() -> int:
    return int(getattr(settings, "MAP_REFRESH_DELAY_S", 60))


def request_map_refresh(model_name: str) -> None:
    """Arm (or push back) the one pending map refresh of `model_name`."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=f"map refresh: {model_name}"[:100],
        defaults={
            "func": REFRESH_TASK,
            "args": repr((model_name,)),
            "schedule_type": Schedule.ONCE,
            "repeats": 1,
            "next_run": timezone.now() + timedelta(seconds=refresh_delay_s()),
        },
    )


def _function_name(func) -> str:
    if isinstance(func, str):
        return func
    return f"{getattr(func, '__module__', '')}.{getattr(func, '__name__', '')}"


@receiver(post_execute_in_worker)
def refresh_map_after_embedding(sender, func=None, task=None, **kwargs):
    task = task or {}
    if _function_name(task.get("func", func)) != EMBED_TASK or not task.get("success", True):
        return
    args = task.get("args") or ()
    model_name = args[1] if len(args) > 1 else task.get("kwargs", {}).get("model_name")
    if model_name:
        request_map_refresh(model_name)
