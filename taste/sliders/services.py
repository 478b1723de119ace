"""Sliders: creating them, rating tracks on them, refitting their head, and ranking the catalogue by them.

The maths is in taste/sliders/learning.py (pure NumPy); this module reads and writes the database around it. A slider
is refitted on every rating (a few milliseconds at hundreds of ratings) and its fit is stored on the row, so
pages, station knobs and rankings never refit on a read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.db import connection, transaction
from django.db.models import Avg, Count, F, Min, Q
from django.utils import timezone
from django_q.tasks import async_task

from discovery.lib.forms import ListenerError
from embedding.models import EmbeddingModel, TrackEmbedding
from embedding.samples import corpus_sample_with_ids
from embedding.vector_index import nearest_neighbours
from taste.sliders import learning
from taste.sliders.models import Slider, SliderRating
from taste.sliders.queue import rate_more_queue
from tracks.models import Track


class SliderDark(Exception):
    """The slider cannot rank yet; the message says what it still needs (shown with a 403)."""


def visible_sliders(user):
    """A user's own sliders and everyone's public ones."""
    return Slider.objects.filter(Q(owner=user) | Q(public=True))


def steering_sliders(user):
    """Sliders that may steer `user`'s stations: lit, and theirs or public."""
    return visible_sliders(user).filter(lit=True)


def usable_slider_ids(user) -> set[int]:
    return set(steering_sliders(user).values_list("pk", flat=True))


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
    """One row per rated track, in the order the tracks were first rated (the gate's first look is the first
    ten): its vector, the mean of its ratings, and how many listeners rated it.

    A public slider learns from everyone. Averaging per track keeps a track rated by several listeners from
    counting as several independent examples, which would flatter the leave-one-out skill.
    """
    per_track = (
        SliderRating.objects.filter(slider=slider)
        .values("track_id")
        .annotate(mean=Avg("value"), raters=Count("id"), first_rated=Min("created"))
        .order_by("first_rated", "track_id")
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


# How many rated tracks illustrate each end of a slider on its page.
SHOWN_ENDS = 3


def _ends(ids, vectors, targets, model: learning.SliderModel | None) -> dict:
    """The rated tracks that most define each end: among those rated above the middle, the ones the head
    predicts highest, and below it the lowest (by the ratings themselves while there is no head)."""
    if not ids:
        return {"high": [], "low": []}
    targets = np.asarray(targets, dtype=np.float64)
    scores = learning.predict(model, vectors) if model is not None else targets
    order = np.lexsort((np.asarray(ids), -scores))
    high = [int(ids[i]) for i in order if targets[i] > learning.RATING_MIDDLE][:SHOWN_ENDS]
    low = [int(ids[i]) for i in order[::-1] if targets[i] < learning.RATING_MIDDLE][:SHOWN_ENDS]
    return {"high": high, "low": low}


def _listeners(slider: Slider) -> int:
    return SliderRating.objects.filter(slider=slider).values("user").distinct().count()


def public_sliders():
    """Every public slider with how many listeners taught it (`listeners`) and how many ratings (`rating_count`)."""
    return (
        Slider.objects.filter(public=True)
        .select_related("owner")
        .annotate(listeners=Count("ratings__user", distinct=True), rating_count=Count("ratings"))
        .order_by("-lit", "name", "pk")
    )


# A queued gate run that has not written its verdict this long after it was queued is presumed lost (its worker
# was killed, the queue dropped it), and the next rating queues another. Well beyond a gate run (seconds) and the
# queue's wait behind a long job; too short would only cost a second run, since only a current verdict is kept.
GATE_PRESUMED_LOST = timedelta(hours=1)


def _gate_pending(slider: Slider) -> bool:
    return slider.gate_queued is not None and slider.gate_queued > timezone.now() - GATE_PRESUMED_LOST


def queue_gate(slider_id: int) -> None:
    """Queue the gate (taste.sliders.tasks.evaluate_slider); callers have already marked it pending."""
    async_task("taste.sliders.tasks.evaluate_slider", slider_id, group="sliders")


def requeue_gate(slider_id: int) -> None:
    """Queue the gate again, still pending, for ratings that arrived while it measured."""
    Slider.objects.filter(pk=slider_id).update(gate_queued=timezone.now())
    queue_gate(slider_id)


def release_gate(slider_id: int) -> None:
    """No gate pending any more (it failed): the next rating queues one instead of waiting for this one."""
    Slider.objects.filter(pk=slider_id).update(gate_queued=None)


@transaction.atomic
def refit(slider: Slider) -> None:
    """After a rating: the head again (milliseconds), a new ratings version, and the gate queued unless pending.

    The gate refits the head on shuffles of the ratings (up to a second for a slider about to light), too slow
    for the request; until it has run, the slider keeps its last verdict for steering, and its pages say it is
    checking rather than show that verdict. Only the
    first rating of a burst queues it: the others find it pending, bump the version, and so make that run queue
    itself once more (tasks.evaluate_slider). The queueing happens on commit, once per transaction at most.
    """
    slider = Slider.objects.select_for_update().get(pk=slider.pk)
    ids, vectors, ratings, raters = _training_set(slider)
    fit = {
        **slider.fit, "ratings": SliderRating.objects.filter(slider=slider).count(), "tracks": len(ids),
        "listeners": _listeners(slider),
    }
    model = None
    if len(ids) >= 3 and len(set(ratings.tolist())) > 1:
        model = learning.fit_slider(vectors, ratings, raters)
        fit.update(_head_fields(slider, model))
    fit["ends"] = _ends(ids, vectors, ratings, model)
    # The verdict below was measured on fewer ratings: pages show "checking" instead until the gate has run.
    fit["evaluating"] = True
    # Under the row lock, so that a pending gate either wrote its verdict before this (and is no longer
    # pending) or writes after it, sees the new version and runs again: no rating is left without a verdict.
    queue = not _gate_pending(slider)
    pending = {"gate_queued": timezone.now()} if queue else {}
    Slider.objects.filter(pk=slider.pk).update(fit=fit, ratings_version=F("ratings_version") + 1, **pending)
    if queue:
        transaction.on_commit(lambda: queue_gate(slider.pk))


@dataclass(frozen=True)
class GateSnapshot:
    """The ratings one gate run measures, and the `ratings_version` they were read at."""

    slider: Slider
    ratings_version: int
    ratings: int  # all of them, tracks without a vector included
    ids: list[int]
    vectors: np.ndarray
    targets: np.ndarray
    raters: np.ndarray


@dataclass(frozen=True)
class GateRun:
    """What `evaluate` measured, on which ratings version, and whether the verdict was kept (written)."""

    skill: learning.SliderSkill
    ratings_version: int
    written: bool


def gate_snapshot(slider_id: int) -> GateSnapshot:
    """Read the ratings for the gate, taking no lock.

    The version is read before the ratings. Each query sees what was committed when it ran, so a rating the
    ratings query missed was committed after the version was read, and its refit bumps the version after that:
    the verdict on this snapshot is then refused. A rating read here whose bump lands later only costs a rerun.
    """
    slider = Slider.objects.select_related("embedding_model").get(pk=slider_id)
    ids, vectors, targets, raters = _training_set(slider)
    ratings = SliderRating.objects.filter(slider=slider).count()
    return GateSnapshot(slider, slider.ratings_version, ratings, ids, vectors, targets, raters)


def gate_skill(snapshot: GateSnapshot) -> learning.SliderSkill:
    """The gate's measurement on a snapshot (up to seconds): touches no database row."""
    return learning.slider_skill(
        snapshot.vectors, snapshot.targets, snapshot.raters if len(snapshot.ids) else None,
        low_label=snapshot.slider.low_label, high_label=snapshot.slider.high_label,
    )


def write_verdict(snapshot: GateSnapshot, skill: learning.SliderSkill) -> bool:
    """Store the verdict and end the pending gate, if the ratings are still the snapshot's; False (nothing
    written) when a rating arrived since, so that a stale verdict never replaces a newer head."""
    fit = {
        "ratings": snapshot.ratings,
        "tracks": len(snapshot.ids),
        "listeners": _listeners(snapshot.slider),
        "skill": skill.skill,
        "p_value": skill.p_value,
        "level": skill.level,
        "agreement": skill.agreement,
        "more": skill.more,
        "needs": skill.needs,
        "ends": _ends(snapshot.ids, snapshot.vectors, snapshot.targets, skill.model),
        "evaluating": False,
    }
    if skill.model is not None:
        # Before the UPDATE: it reads the corpus sample, and the UPDATE should hold the row for no longer than itself.
        fit.update(_head_fields(snapshot.slider, skill.model))
    current = Slider.objects.filter(pk=snapshot.slider.pk, ratings_version=snapshot.ratings_version)
    return current.update(fit=fit, lit=skill.lit, gate_queued=None) == 1


def evaluate(slider_id: int) -> GateRun:
    """The gate: the leave-one-out skill's permutation p-value, at the level for this many ratings, decides
    whether the slider is lit (learning.slider_skill).

    Holds no lock while it measures, so ratings go on being saved meanwhile: it reads a snapshot of the ratings,
    measures outside any transaction, and keeps the verdict only if no rating arrived since (`written`). When
    one did, it does not measure again itself: the task queues another run for the newer ratings, which frees
    the worker between runs and gives each run the queue's timeout (tasks.evaluate_slider).
    """
    snapshot = gate_snapshot(slider_id)
    skill = gate_skill(snapshot)
    return GateRun(skill, snapshot.ratings_version, write_verdict(snapshot, skill))


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
    sliders = steering_sliders(user).filter(pk__in=slider_ids, embedding_model=model).order_by("pk")
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
    chosen = rate_more_queue(head_model, sample, sample_ids, [*ids, *rated_by_user], k=count)
    tracks = Track.objects.canonical().in_bulk([int(pk) for pk in chosen])
    return [tracks[int(pk)] for pk in chosen if int(pk) in tracks]
