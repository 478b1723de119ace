"""The database queue's leases: a job whose cluster or worker died is offered again at once, exactly once."""

import os
import socket
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ, Task
from django_q.signals import pre_execute
from django_q.signing import SignedPackage
from django_q.status import Stat, Status

from discovery.jobs.broker import STALE_SECONDS, LeasedORM, release_stranded_jobs
from discovery.jobs.models import ClusterStat, JobLease
from tracks.models import Track

pytestmark = pytest.mark.django_db

DEAD_CLUSTER = "django_q:wavelength:cluster:dead"
LIVE_CLUSTER = "django_q:wavelength:cluster:live"


def packed_status(status=Conf.IDLE, workers=(4242,), sentinel=None):
    stat = Status(pid=1, cluster_id="live")
    stat.status, stat.workers, stat.sentinel = status, list(workers), sentinel or os.getppid()
    stat.tob = timezone.now()
    return SignedPackage.dumps(stat, True)


def queue_job(broker, func="embedding.tasks.embed_tracks", group="embed:musicnn"):
    task = {"id": f"job-{OrmQ.objects.count()}", "name": "job", "func": func, "args": ([1, 2], "musicnn", "cpu"),
            "kwargs": {}, "group": group, "started": timezone.now()}
    return broker.enqueue(SignedPackage.dumps(task))


def taken_by(cluster_key):
    broker = LeasedORM()
    broker.stat_key = cluster_key
    broker._last_sweep = float("inf")  # the tests call the sweep themselves
    return broker


def test_a_clusters_heartbeat_is_seen_by_every_process_through_django_q2s_stat():
    LeasedORM().set_stat(LIVE_CLUSTER, packed_status(workers=(11, 12)), 3)
    [stat] = Stat.get_all(broker=LeasedORM())
    assert stat.status == Conf.IDLE and stat.workers == [11, 12]

    ClusterStat.objects.update(seen=timezone.now() - timedelta(seconds=STALE_SECONDS + 1))
    assert Stat.get_all(broker=LeasedORM()) == []  # a silent cluster is gone


def test_a_stopped_cluster_leaves_no_heartbeat():
    broker = LeasedORM()
    broker.set_stat(LIVE_CLUSTER, packed_status(), 3)
    broker.set_stat(LIVE_CLUSTER, packed_status(status=Conf.STOPPED), 3)
    assert not ClusterStat.objects.exists()


def test_a_job_taken_by_a_cluster_that_died_is_offered_again_once():
    broker = taken_by(DEAD_CLUSTER)  # a cluster with no heartbeat: gone
    job_id = queue_job(broker)
    assert [ack for ack, _ in broker.dequeue()] == [job_id]
    lease = JobLease.objects.get(job_id=job_id)
    assert lease.func == "embedding.tasks.embed_tracks" and lease.group == "embed:musicnn" and lease.deliveries == 1
    assert broker.queue_size() == 0 and broker.stranded_size("embed:") == 1

    assert release_stranded_jobs() == {"released": 1, "failed": 0, "finished": 0}
    assert release_stranded_jobs() == {"released": 0, "failed": 0, "finished": 0}  # a second sweep finds nothing more
    assert broker.queue_size() == 1 and broker.stranded_size() == 0

    assert [ack for ack, _ in taken_by(LIVE_CLUSTER).dequeue()] == [job_id]
    assert JobLease.objects.get(job_id=job_id).deliveries == 2
    assert OrmQ.objects.count() == 1  # the same job, not a copy


def test_a_released_job_is_taken_again_before_the_jobs_queued_after_it():
    broker = taken_by(DEAD_CLUSTER)
    first, *later = [queue_job(broker) for _ in range(3)]
    assert [ack for ack, _ in broker.dequeue()] == [first]
    release_stranded_jobs()
    # Each update moved the job's row behind the others on disk: without an order it would come last.
    live = taken_by(LIVE_CLUSTER)
    assert [ack for _ in range(3) for ack, _ in live.dequeue()] == [first, *later]
    assert live.dequeue() is None  # an empty queue: django-q2's pusher polls again


def test_a_job_held_by_a_live_cluster_stays_with_it():
    LeasedORM().set_stat(LIVE_CLUSTER, packed_status(), 3)
    broker = taken_by(LIVE_CLUSTER)
    queue_job(broker)
    broker.dequeue()
    assert release_stranded_jobs() == {"released": 0, "failed": 0, "finished": 0}
    assert broker.lock_size() == 1


def test_a_job_whose_worker_died_is_released_while_its_cluster_lives():
    LeasedORM().set_stat(LIVE_CLUSTER, packed_status(workers=(4242,)), 3)
    broker = taken_by(LIVE_CLUSTER)
    job_id = queue_job(broker)
    [(ack, payload)] = broker.dequeue()
    task = {**SignedPackage.loads(payload), "ack_id": ack}
    pre_execute.send(sender="django_q", func=None, task=task)  # what the worker sends as it starts the job
    lease = JobLease.objects.get(job_id=job_id)
    assert lease.worker_pid == os.getpid() and lease.started is not None

    # The pool it reported before the job started does not count: the worker was simply not listed yet.
    ClusterStat.objects.update(seen=lease.started - timedelta(seconds=1))
    assert release_stranded_jobs()["released"] == 0
    # A pool reported after the job started, without that worker in it: the worker died with the job.
    ClusterStat.objects.update(seen=timezone.now(), worker_pids=[4243])
    assert release_stranded_jobs()["released"] == 1
    assert broker.queue_size() == 1


def test_a_cluster_killed_on_this_machine_frees_its_jobs_before_its_heartbeat_goes_stale():
    LeasedORM().set_stat(LIVE_CLUSTER, packed_status(), 3)
    broker = taken_by(LIVE_CLUSTER)
    queue_job(broker)
    broker.dequeue()
    gone = 2**22 + 12345  # above Linux's default pid_max, so no process has it
    JobLease.objects.update(sentinel_pid=gone, host=socket.gethostname())
    assert release_stranded_jobs()["released"] == 1


def test_a_job_whose_workers_keep_dying_is_failed_with_a_reason():
    broker = taken_by(DEAD_CLUSTER)
    job_id = queue_job(broker)
    broker.dequeue()
    JobLease.objects.filter(job_id=job_id).update(deliveries=Conf.MAX_ATTEMPTS)
    assert release_stranded_jobs() == {"released": 0, "failed": 1, "finished": 0}
    assert not OrmQ.objects.exists() and not JobLease.objects.exists()
    task = Task.objects.get()
    assert not task.success and "died 3 times" in task.result


def save_result(payload, success):
    """What django-q2's monitor does with a finished job before it acknowledges it."""
    task = SignedPackage.loads(payload)
    Task.objects.create(id=task["id"], name=task["name"], func=task["func"], args=task["args"],
                        kwargs=task["kwargs"], started=task["started"], stopped=timezone.now(), success=success)


def test_a_job_finished_just_before_its_cluster_died_is_acknowledged_not_run_again():
    broker = taken_by(DEAD_CLUSTER)
    job_id = queue_job(broker)
    [(_, payload)] = broker.dequeue()
    save_result(payload, success=True)  # the cluster died between saving the result and acknowledging it
    assert release_stranded_jobs() == {"released": 0, "failed": 0, "finished": 1}
    assert not OrmQ.objects.filter(pk=job_id).exists() and not JobLease.objects.exists()
    assert Task.objects.get().success  # its result stands


@pytest.mark.parametrize("ack_failures, expected", [(True, "finished"), (False, "released")])
def test_a_saved_failure_is_acknowledged_only_where_failures_are(monkeypatch, ack_failures, expected):
    monkeypatch.setattr(Conf, "ACK_FAILURES", ack_failures)  # without, django-q2 retries a failure
    broker = taken_by(DEAD_CLUSTER)
    queue_job(broker)
    [(_, payload)] = broker.dequeue()
    save_result(payload, success=False)
    assert release_stranded_jobs()[expected] == 1


def test_finishing_a_job_drops_its_lease():
    broker = taken_by(LIVE_CLUSTER)
    job_id = queue_job(broker)
    broker.dequeue()
    broker.acknowledge(job_id)
    assert not OrmQ.objects.exists() and not JobLease.objects.exists()


def test_staff_see_stranded_batches_in_the_embedding_progress(staff_client):
    Track.objects.create(title="t", source="folder", source_key="t", status="pending")
    broker = taken_by(DEAD_CLUSTER)
    queue_job(broker)
    broker.dequeue()
    page = staff_client.get(reverse("embedding_progress")).content.decode()
    assert "1 batch stranded by a stopped worker, will be retried" in page
    assert 'hx-trigger="every 2s"' in page and "python manage.py embed" not in page
