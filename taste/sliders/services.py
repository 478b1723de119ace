"""Sliders: creating them, rating tracks on them, refitting their head, and ranking the catalogue by them.

The maths is in taste/sliders/learning.py (pure NumPy); this module reads and writes the database around it. A slider
is refitted on every rating (a few milliseconds at hundreds of ratings) and its fit is stored on the row, so
pages, station knobs and rankings never refit on a read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.db import connection, transaction
from django.db.models import Avg, Count, Q
from django_q.tasks import async_task

from discovery.lib.forms import ListenerError
from embedding.models import EmbeddingModel, TrackEmbedding
from embedding.samples import corpus_sample_with_ids
from embedding.vector_index import nearest_neighbours
from taste.sliders import learning
from taste.sliders.models import Slider, SliderRating
from tracks.models import Track


class SliderDark(Exception):
    """The slider cannot rank yet; the message says what it still needs (shown with a 403)."""


def visible_sliders(user):
    """A user's own sliders and everyone's public ones."""
    return Slider.objects.filter(Q(owner=user) | Q(public=True))


def usable_slider_ids(user) -> set[int]:
    """Sliders that may steer `user`'s stations: lit, and theirs or public."""
    return set(visible_sliders(user).filter(lit=True).values_list("pk", flat=True))


def create_slider(owner, *, name: str, low_label: str, high_label: str, public: bool, description: str = "") -> Slider:
    """A new slider learnt on the default model's vectors (values as SliderForm cleaned them)."""
    model = EmbeddingModel.default()
    if model is None:
        raise ListenerError("No music has been embedded yet, so there is nothing for a slider to learn from.")
    return Slider.objects.create(
        owner=owner, name=name, low_label=low_label, high_label=high_label, public=public,
        description=description, embedding_model=model,
    )


def rate(slider: Slider, user, track_id: int, value: int) -> None:
    """Record (or change) the user's rating of a track on a slider, then refit the slider."""
    if not Track.objects.visible().filter(pk=track_id).exists():
        raise ListenerError(f"There is no track {track_id}.")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SliderRating._meta.db_table} (user_id, slider_id, track_id, value, created, updated) "
            "VALUES (%s, %s, %s, %s, now(), now()) "
            "ON CONFLICT (user_id, slider_id, track_id) DO UPDATE SET value = EXCLUDED.value, updated = now()",
            [user.pk, slider.pk, track_id, value],
        )
    refit(slider)


def _training_set(slider: Slider):
    """One row per rated track: its vector, the mean of its ratings, and how many listeners rated it.

    A public slider learns from everyone. Averaging per track keeps a track rated by several listeners from
    counting as several independent examples, which would flatter the leave-one-out skill.
    """
    per_track = (
        SliderRating.objects.filter(slider=slider)
        .values("track_id")
        .annotate(mean=Avg("value"), raters=Count("id"))
        .order_by("track_id")
    )
    rows = {row["track_id"]: row for row in per_track}
    vectors = dict(
        TrackEmbedding.objects.filter(model=slider.embedding_model, track_id__in=rows).values_list("track_id", "vector")
    )
    ids = [pk for pk in rows if pk in vectors]
    if not ids:
        return [], np.zeros((0, slider.embedding_model.dim)), np.zeros(0), np.zeros(0)
    return (
        ids,
        np.stack([np.asarray(vectors[pk], dtype=np.float64) for pk in ids]),
        np.array([rows[pk]["mean"] for pk in ids], dtype=np.float64),
        np.array([rows[pk]["raters"] for pk in ids], dtype=np.float64),
    )


def _head_fields(slider: Slider, model: learning.SliderModel) -> dict:
    sample_ids, sample = corpus_sample_with_ids(slider.embedding_model)
    predictions = learning.predict(model, sample) if len(sample) else np.zeros(1)
    return {
        "coef": model.coef.tolist(),
        "intercept": float(model.intercept),
        "alpha": float(model.alpha),
        # Spread of predictions over the catalogue, to turn a prediction into "how unusually dreamy".
        "prediction_mean": float(predictions.mean()),
        "prediction_std": float(predictions.std()) or 1.0,
    }


@transaction.atomic
def refit(slider: Slider) -> None:
    """After a rating: the head again (milliseconds), then the gate queued for the worker.

    The gate refits the head on a hundred shuffles of the ratings (a third of a second at 500 ratings, two
    seconds at 5,000), too slow for the request; until it has run, the slider keeps its last verdict.
    """
    slider = Slider.objects.select_for_update().get(pk=slider.pk)
    ids, vectors, ratings, raters = _training_set(slider)
    fit = {**slider.fit, "ratings": SliderRating.objects.filter(slider=slider).count(), "tracks": len(ids)}
    if len(ids) >= 3 and len(set(ratings.tolist())) > 1:
        fit.update(_head_fields(slider, learning.fit_slider(vectors, ratings, raters)))
    fit["evaluating"] = True
    Slider.objects.filter(pk=slider.pk).update(fit=fit)
    transaction.on_commit(lambda: async_task("taste.sliders.tasks.evaluate_slider", slider.pk, group="sliders"))


@transaction.atomic
def evaluate(slider_id: int) -> learning.SliderSkill:
    """The gate: leave-one-out skill against shuffled ratings decides whether the slider is lit."""
    slider = Slider.objects.select_for_update().get(pk=slider_id)
    ids, vectors, ratings, raters = _training_set(slider)
    skill = learning.slider_skill(
        vectors, ratings, raters if len(ids) else None, low_label=slider.low_label, high_label=slider.high_label
    )
    fit = {
        "ratings": SliderRating.objects.filter(slider=slider).count(),
        "tracks": len(ids),
        "skill": skill.skill,
        "shuffled_skill": skill.shuffled_skill,
        "needs": skill.needs,
        "evaluating": False,
    }
    if skill.model is not None:
        fit.update(_head_fields(slider, skill.model))
    Slider.objects.filter(pk=slider.pk).update(fit=fit, lit=skill.lit)
    return skill


@dataclass(frozen=True)
class LinearHead:
    """A lit slider's head as stored: prediction = intercept + coef · x."""

    coef: np.ndarray
    intercept: float
    prediction_mean: float
    prediction_std: float

    @classmethod
    def of(cls, slider: Slider) -> LinearHead:
        if not slider.lit or "coef" not in slider.fit:
            raise SliderDark(slider.fit.get("needs") or "The slider has not learnt its word yet.")
        fit = slider.fit
        return cls(np.asarray(fit["coef"]), fit["intercept"], fit["prediction_mean"], fit["prediction_std"])

    def predict(self, vectors: np.ndarray) -> np.ndarray:
        return self.intercept + np.asarray(vectors) @ self.coef

    def standardised(self, vectors: np.ndarray) -> np.ndarray:
        return (self.predict(vectors) - self.prediction_mean) / self.prediction_std


def steering_heads(user, slider_ids: list[int], model: EmbeddingModel) -> list[tuple[int, str, LinearHead]]:
    """(id, name, head) of the sliders among `slider_ids` that can steer `user`'s station on `model` now:
    visible to the user, lit, and learnt on that model's vectors; in id order."""
    if not slider_ids:
        return []
    sliders = visible_sliders(user).filter(pk__in=slider_ids, lit=True, embedding_model=model).order_by("pk")
    return [(slider.pk, slider.name, LinearHead.of(slider)) for slider in sliders]


def ranking(slider: Slider, limit: int = 50, highest: bool = True) -> list[tuple[int, float]]:
    """(track id, predicted rating) of the `limit` tracks with the most (or least) of the slider's word.

    The head is linear and every vector has unit length, so ordering by prediction is ordering by cosine to
    the coefficient direction: the model's HNSW index answers it, at any catalogue size.
    """
    head = LinearHead.of(slider)
    scale = float(np.linalg.norm(head.coef))
    if scale == 0.0:
        raise SliderDark("The slider's ratings do not point anywhere yet; rate a few more tracks.")
    direction = head.coef / scale if highest else -head.coef / scale
    model = slider.embedding_model
    found = nearest_neighbours(model, direction, limit=limit * 2 + 20)
    visible = set(Track.objects.canonical().filter(pk__any=[pk for pk, _ in found]).values_list("pk", flat=True))
    results = []
    for track_id, distance in found:
        if track_id in visible:
            cosine = 1.0 - distance if highest else distance - 1.0
            results.append((track_id, head.intercept + scale * cosine))
        if len(results) == limit:
            break
    return results


def rate_more(slider: Slider, user, count: int = 10) -> list[Track]:
    """Tracks worth rating next on this slider: the ones its head is least sure of, kept diverse."""
    head_model = None
    ids, vectors, ratings, raters = _training_set(slider)
    # Below the gate's minimum a head is mostly noise: spreading over the catalogue teaches more.
    if len(ids) >= learning.GATE_MIN_RATINGS and len(set(ratings.tolist())) > 1:
        head_model = learning.fit_slider(vectors, ratings, raters)
    rated_by_user = SliderRating.objects.filter(slider=slider, user=user).values_list("track_id", flat=True)
    sample_ids, sample = corpus_sample_with_ids(slider.embedding_model)
    if not len(sample_ids):
        return []
    chosen = learning.rate_more_queue(head_model, sample, sample_ids, [*ids, *rated_by_user], k=count)
    tracks = Track.objects.canonical().in_bulk([int(pk) for pk in chosen])
    return [tracks[int(pk)] for pk in chosen if int(pk) in tracks]
