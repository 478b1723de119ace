"""django-q2 tasks of the sliders app: plain functions of primary keys, idempotent."""

from taste.sliders.models import Slider
from taste.sliders.services import evaluate, release_gate, requeue_gate


def evaluate_slider(slider_id: int) -> dict:
    """The gate for one slider, queued by the first rating of a burst (services.refit).

    When ratings arrived while it measured, its verdict was stale and not kept, and it queues itself once more
    for the newer ratings; ratings arriving during that run do the same again, so the chain ends with the first
    run that sees no new rating, and the last rating always gets its verdict.
    """
    if not Slider.objects.filter(pk=slider_id).exists():
        return {"slider": slider_id, "deleted": True}
    try:
        run = evaluate(slider_id)
    except Exception:
        release_gate(slider_id)
        raise
    if not run.written:
        requeue_gate(slider_id)
    skill = run.skill
    return {
        "slider": slider_id, "lit": skill.lit, "skill": skill.skill, "ratings": skill.ratings,
        "ratings_version": run.ratings_version, "written": run.written,
    }
