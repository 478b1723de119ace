"""The staff card that queues a training run of our own model for the worker and shows its progress."""

import pytest
from django.test import Client
from django.urls import reverse

from embedding.models import TrainingRun
from embedding.training_jobs import queue_training, task_minutes_allowed


@pytest.mark.django_db
class TestTrainingView:
    def test_listeners_and_visitors_cannot_see_or_queue_training(self, owner_client):
        url = reverse("embedding_training")
        assert owner_client.get(url).status_code == 404
        assert owner_client.post(url, {"epochs": "2"}).status_code == 404
        assert Client().post(url).status_code == 302  # to the sign-in page
        assert not TrainingRun.objects.exists()

    def test_staff_see_the_button_before_any_run(self, staff_client):
        page = staff_client.get(reverse("embedding_training")).content.decode()
        assert "Train wavelength-1" in page and "hx-trigger" not in page

    def test_a_bad_number_is_a_400_with_a_sentence(self, staff_client):
        response = staff_client.post(reverse("embedding_training"), {"epochs": "0"})
        assert response.status_code == 400 and "Train for at least one epoch." in response.content.decode()
        assert not TrainingRun.objects.exists()

    def test_a_running_run_is_polled_and_not_queued_twice(self, staff_client, monkeypatch):
        run = TrainingRun.objects.create(name="wavelength-1", status=TrainingRun.Status.TRAINING, done=3, total=10)
        page = staff_client.post(reverse("embedding_training"), {"epochs": "2"}).content.decode()
        assert TrainingRun.objects.count() == 1 and queue_training("wavelength-1") == run
        assert 'hx-trigger="every 2s"' in page and "3 of 10 epochs" in page and "<form" not in page

    def test_the_budget_stays_inside_the_workers_task_timeout(self, settings):
        settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 1800}
        assert task_minutes_allowed() == 20

    def test_staff_queue_a_run_that_the_worker_takes_and_that_says_why_it_failed(self, staff_client):
        # Tasks run synchronously in the tests: the worker has taken the run by the time the page answers.
        page = staff_client.post(reverse("embedding_training"), {"epochs": "2", "max_minutes": "5"}).content.decode()
        run = TrainingRun.objects.get()
        assert (run.name, run.epochs, run.max_minutes, run.status) == ("wavelength-1", 2, 5.0, "failed")
        assert "Training needs at least two ready tracks" in run.message
        assert "Failed" in page and "Training needs at least two ready tracks" in page and "<form" in page
