"""GET /healthz: JSON about the database, the worker's heartbeat and the queue; 200 healthy, 503 otherwise."""

import os

import pytest
from django.db import OperationalError
from django.utils import timezone
from django_q.conf import Conf
from django_q.signing import SignedPackage
from django_q.status import Status

from discovery import health
from discovery.jobs.broker import LeasedORM

pytestmark = pytest.mark.django_db


def a_worker_reports(status=Conf.IDLE):
    stat = Status(pid=1, cluster_id="c1")
    stat.status, stat.workers, stat.sentinel, stat.tob = status, [101, 102], os.getppid(), timezone.now()
    LeasedORM().set_stat("django_q:wavelength:cluster:c1", SignedPackage.dumps(stat, True), 3)


def test_healthy_with_the_database_up_and_a_worker_alive(client):
    a_worker_reports()
    response = client.get("/healthz")  # no sign-in needed
    report = response.json()
    assert response.status_code == 200 and report["status"] == "ok"
    assert report["database"]["ok"] and report["worker"] == {
        "ok": True, "clusters": 1, "workers": 2, "last_heartbeat_seconds": report["worker"]["last_heartbeat_seconds"]
    }
    assert report["queue"] == {"queued": 0, "taken": 0, "stranded": 0}
    assert response["Cache-Control"].startswith("max-age=0")


def test_unhealthy_without_a_worker(client):
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["status"] == "unhealthy"
    assert "qcluster" in response.json()["worker"]["error"]


def test_a_stopped_worker_does_not_count(client):
    a_worker_reports(status=Conf.STOPPED)
    assert client.get("/healthz").status_code == 503


def test_unhealthy_when_the_database_does_not_answer(client, monkeypatch):
    a_worker_reports()

    class Lost:
        def cursor(self):
            raise OperationalError("connection to server failed: Connection refused\nIs the server running?")

    monkeypatch.setattr(health, "connection", Lost())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False, "error": "connection to server failed: Connection refused"}
