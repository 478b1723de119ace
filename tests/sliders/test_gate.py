"""The gate measures without a lock, keeps only a verdict on the latest ratings, and runs once for a burst."""

import threading
from collections import defaultdict
from datetime import timedelta

import numpy as np
import pytest
from django.db import connection, transaction
from django.db.utils import OperationalError
from django.utils import timezone
from django_q.models import Task

from embedding.models import TrackEmbedding
from taste.sliders import learning
from taste.sliders.models import Slider, SliderRating
from taste.sliders.services import create_slider, gate_skill, gate_snapshot, rate, write_verdict
from tests.catalogue import make_catalogue
from tests.sliders.ratings import hidden_direction_ratings

REAL_SLIDER_SKILL = learning.slider_skill
GATE_TASK = "taste.sliders.tasks.evaluate_slider"


@pytest.fixture
def catalogue(db):
    return make_catalogue(clusters=4, per_cluster=15)


@pytest.fixture
def slider(owner, catalogue):
    return create_slider(owner, name="dreamy", low_label="not dreamy", high_label="dreamy", public=False)


@pytest.fixture
def tracks_and_ratings(catalogue):
    """Every other catalogue track, and the ratings a consistent listener gives them."""
    _, clusters = catalogue
    tracks = [t for cluster in clusters for t in cluster]
    _, _, ratings = hidden_direction_ratings(tracks)
    return tracks[::2], ratings


class GateRuns:
    """Stands in for learning.slider_skill, counting the gate's measurements; `during` runs inside the first."""

    def __init__(self, during=None):
        self.calls = 0
        self.during = during

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls == 1 and self.during is not None:
            self.during()
        return REAL_SLIDER_SKILL(*args, **kwargs)


@pytest.fixture
def gate_runs(monkeypatch):
    def install(during=None):
        runs = GateRuns(during)
        monkeypatch.setattr(learning, "slider_skill", runs)
        return runs

    return install


def verdict_on(slider):
    """What the gate says about the slider's ratings as they stand, worked out here from the rows."""
    values = defaultdict(list)
    for track_id, value in SliderRating.objects.filter(slider=slider).values_list("track_id", "value"):
        values[track_id].append(value)
    ids = sorted(values)
    embeddings = TrackEmbedding.objects.filter(model=slider.embedding_model, track_id__in=ids)
    vectors = dict(embeddings.values_list("track_id", "vector"))
    return REAL_SLIDER_SKILL(
        np.stack([np.asarray(vectors[pk]) for pk in ids]), [np.mean(values[pk]) for pk in ids],
        [len(values[pk]) for pk in ids], low_label=slider.low_label, high_label=slider.high_label,
    )


def assert_final_verdict(slider, ratings):
    """The stored verdict is the gate's on all `ratings` ratings now in the database, and no gate is pending."""
    slider.refresh_from_db()
    expected = verdict_on(slider)
    assert slider.fit["ratings"] == ratings == SliderRating.objects.filter(slider=slider).count()
    assert slider.lit == expected.lit and slider.fit["skill"] == pytest.approx(expected.skill)
    assert slider.fit["evaluating"] is False and slider.gate_queued is None


def gate_results(slider):
    """The results of the gate tasks that ran for the slider, oldest first (tests run queued tasks at once)."""
    tasks = Task.objects.filter(func=GATE_TASK, args=(slider.pk,)).order_by("started")
    return [task.result for task in tasks]


@pytest.mark.django_db
class TestOneGateRunPerBurst:
    def test_ratings_in_one_transaction_queue_one_gate_run(
        self, owner, slider, tracks_and_ratings, gate_runs, django_capture_on_commit_callbacks
    ):
        tracks, ratings = tracks_and_ratings
        runs = gate_runs()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            with transaction.atomic():
                for track in tracks[:24]:
                    rate(slider, owner, track.pk, ratings[track.pk])
        assert len(callbacks) == 1 and runs.calls == 1
        assert [result["written"] for result in gate_results(slider)] == [True]
        assert_final_verdict(slider, 24)

    def test_ratings_while_a_gate_waits_in_the_queue_queue_nothing_more(
        self, owner, slider, tracks_and_ratings, gate_runs, django_capture_on_commit_callbacks
    ):
        tracks, ratings = tracks_and_ratings
        runs = gate_runs()
        with django_capture_on_commit_callbacks() as first:
            rate(slider, owner, tracks[0].pk, ratings[tracks[0].pk])
        for track in tracks[1:24]:  # each its own request, while the worker has not reached the gate yet
            with django_capture_on_commit_callbacks() as later:
                rate(slider, owner, track.pk, ratings[track.pk])
            assert later == []
        first[0]()  # the worker's turn
        assert runs.calls == 1
        assert_final_verdict(slider, 24)

    def test_a_gate_presumed_lost_does_not_hold_back_the_next_rating(
        self, owner, slider, tracks_and_ratings, django_capture_on_commit_callbacks
    ):
        tracks, ratings = tracks_and_ratings
        Slider.objects.filter(pk=slider.pk).update(gate_queued=timezone.now() - timedelta(hours=2))
        with django_capture_on_commit_callbacks() as callbacks:
            rate(slider, owner, tracks[0].pk, ratings[tracks[0].pk])
        assert len(callbacks) == 1

    def test_a_failed_gate_lets_the_next_rating_queue_one(
        self, owner, slider, tracks_and_ratings, monkeypatch, django_capture_on_commit_callbacks
    ):
        tracks, ratings = tracks_and_ratings

        def broken(*args, **kwargs):
            raise RuntimeError("the gate broke")

        monkeypatch.setattr(learning, "slider_skill", broken)
        with django_capture_on_commit_callbacks() as callbacks:
            rate(slider, owner, tracks[0].pk, ratings[tracks[0].pk])
        with pytest.raises(RuntimeError, match="the gate broke"):
            callbacks[0]()
        slider.refresh_from_db()
        assert slider.gate_queued is None
        with django_capture_on_commit_callbacks() as callbacks:
            rate(slider, owner, tracks[1].pk, ratings[tracks[1].pk])
        assert len(callbacks) == 1


@pytest.mark.django_db
class TestNoStaleVerdict:
    def test_a_rating_after_the_snapshot_makes_the_verdict_stale_and_it_is_not_written(
        self, owner, slider, tracks_and_ratings, django_capture_on_commit_callbacks
    ):
        tracks, ratings = tracks_and_ratings
        for track in tracks[:23]:
            rate(slider, owner, track.pk, ratings[track.pk])
        snapshot = gate_snapshot(slider.pk)  # the gate starts ...
        with django_capture_on_commit_callbacks() as callbacks:
            rate(slider, owner, tracks[23].pk, ratings[tracks[23].pk])  # ... a rating arrives ...
        skill = gate_skill(snapshot)  # ... and the gate finishes measuring the 23
        assert callbacks == []  # the gate is pending: this rating queued nothing
        assert skill.ratings == 23 and write_verdict(snapshot, skill) is False
        slider.refresh_from_db()
        assert "skill" not in slider.fit and slider.fit["evaluating"] and slider.gate_queued is not None
        assert slider.fit["ratings"] == 24  # the rating's own refit stands

    def test_a_rating_during_the_gate_leads_to_exactly_one_rerun_with_the_last_verdict(
        self, owner, slider, tracks_and_ratings, gate_runs, django_capture_on_commit_callbacks
    ):
        tracks, ratings = tracks_and_ratings
        last = tracks[23]
        runs = gate_runs(during=lambda: rate(slider, owner, last.pk, ratings[last.pk]))
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            for track in tracks[:23]:
                rate(slider, owner, track.pk, ratings[track.pk])
        assert len(callbacks) == 1 and runs.calls == 2
        results = gate_results(slider)
        assert [(r["ratings"], r["written"]) for r in results] == [(23, False), (24, True)]
        assert_final_verdict(slider, 24)


def rate_from_another_connection(slider, user, track_id, value, seen: dict):
    """In a thread, hence on a connection of its own: lock the slider's row without waiting, then rate."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # a lock held elsewhere fails the test instead of hanging it
        try:
            with transaction.atomic():
                Slider.objects.select_for_update(nowait=True).get(pk=slider.pk)
            seen["locked"] = True
        except OperationalError as error:
            seen["locked"] = error
        try:
            rate(slider, user, track_id, value)
            seen["rated"] = True
        except OperationalError as error:
            seen["rated"] = error
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_the_gate_holds_no_lock_while_it_measures(owner, slider, tracks_and_ratings, gate_runs):
    tracks, ratings = tracks_and_ratings
    with transaction.atomic():
        for track in tracks[:24]:
            rate(slider, owner, track.pk, ratings[track.pk])
    seen = {}

    def rating_elsewhere():
        last = tracks[24]
        thread = threading.Thread(
            target=rate_from_another_connection, args=(slider, owner, last.pk, ratings[last.pk], seen)
        )
        thread.start()
        thread.join(timeout=30)

    runs = gate_runs(during=rating_elsewhere)
    rate(slider, owner, tracks[0].pk, 1 + ratings[tracks[0].pk] % 5)  # commits, and the gate runs at once
    assert seen == {"locked": True, "rated": True}
    assert runs.calls == 2  # the run the rating elsewhere overtook, then the one on all 25
    assert_final_verdict(slider, 25)
