"""The map follows embedding: each finished embedding batch arms one delayed refresh per model, pushed back by
the next batch, so a long run of batches costs one map build."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule
from django_q.signals import post_execute_in_worker

from discovery.atlas.signals import REFRESH_TASK

pytestmark = pytest.mark.django_db


def finish(func="embedding.tasks.embed_tracks", model="musicnn", success=True):
    task = {"func": func, "args": ([1, 2, 3], model, "auto"), "kwargs": {}, "success": success}
    post_execute_in_worker.send(sender="django_q", func=None, task=task)


def test_a_finished_batch_arms_one_refresh_a_delay_later(settings):
    settings.MAP_REFRESH_DELAY_S = 60
    finish()
    schedule = Schedule.objects.get()
    assert schedule.func == REFRESH_TASK and schedule.args == "('musicnn',)"
    assert schedule.schedule_type == Schedule.ONCE
    assert timezone.now() + timedelta(seconds=50) < schedule.next_run <= timezone.now() + timedelta(seconds=60)


def test_the_next_batch_pushes_the_same_refresh_back(settings):
    settings.MAP_REFRESH_DELAY_S = 60
    finish()
    first = Schedule.objects.get().next_run
    settings.MAP_REFRESH_DELAY_S = 120
    finish()
    assert Schedule.objects.count() == 1 and Schedule.objects.get().next_run > first + timedelta(seconds=50)


def test_each_model_has_its_own_refresh():
    finish(model="musicnn")
    finish(model="spectral")
    assert sorted(Schedule.objects.values_list("args", flat=True)) == ["('musicnn',)", "('spectral',)"]


def test_failed_batches_and_other_tasks_arm_nothing():
    finish(success=False)
    finish(func="taste.sliders.tasks.evaluate_slider")
    assert not Schedule.objects.exists()


def test_the_refresh_task_maps_the_model(settings, tmp_path):
    from discovery.atlas.tasks import refresh_map
    from tests.atlas.helpers import add_tracks, map_model

    settings.MAP_DIR = tmp_path
    model = map_model()
    add_tracks(model, 10)
    assert refresh_map(model.name)["action"] == "built"
    assert model.map_layout.points.count() == 10
