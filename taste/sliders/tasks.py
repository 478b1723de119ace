"""django-q2 tasks of the sliders app: plain functions of primary keys, idempotent."""

from taste.sliders.models import Slider
from taste.sliders.services import evaluate


def evaluate_slider(slider_id: int) -> dict:
    if not Slider.objects.filter(pk=slider_id).exists():
        return {"slider": slider_id, "deleted": True}
    skill = evaluate(slider_id)
    return {"slider": slider_id, "lit": skill.lit, "skill": skill.skill, "ratings": skill.ratings}
