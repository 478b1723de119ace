"""django-q2's database broker with leases: a job held by a cluster or worker that died goes back at once.

django-q2's ORM broker locks a job for `retry` seconds (Q_TIMEOUT + 300) when a cluster takes it, and offers
it again only after that. A worker killed mid-job (kill -9, out of memory, a lost machine) leaves that job,
and those its cluster had already taken, invisible for that long. Here each take is recorded (JobLease) with
the cluster that took it, each cluster's heartbeat (the Stat django-q2 saves every half second) is kept in the
database (ClusterStat), and every pusher looks every few seconds for taken jobs whose holder is gone: the
cluster stopped reporting, its process no longer exists on this machine, or the worker that started the job
is no longer in its cluster's pool. Such a job is unlocked, exactly once (the unlock matches only the lock it
saw), and the next free worker takes it: jobs are taken oldest first, so a released job does not wait
behind those queued after it. A job whose worker died `max_attempts` times is failed instead of
being offered forever; one whose result was saved just before its cluster died (the monitor saves, then
acknowledges) is acknowledged instead of run twice. Leases are bookkeeping only: if writing one fails,
django-q2's retry still applies.

Keeping the Stat in the database also makes django_q.status.Stat.get_all() work across processes, which the
health check uses; with Django's default per-process cache it only ever sees its own process.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import timedelta

from django import db
from django.db import IntegrityError
from django.db.models import F
from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ, Task
from django_q.signing import BadSignature, SignedPackage
from django_q.utils import get_func_repr

from discovery.jobs.models import ClusterStat, JobLease

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5  # a cluster's status is written at least this often, and at once when it changes
STALE_SECONDS = 30  # a cluster that has not reported for this long is gone
SWEEP_SECONDS = 10  # how often each pusher looks for stranded jobs
FORGET_STATS_AFTER = timedelta(days=1)


class LeasedORM(ORM):
    def __init__(self, list_key: str | None = None):
        super().__init__(list_key)
        self._forget_progress()

    def _forget_progress(self):
        self.stat_key = ""  # this process's cluster, learnt from the first Stat its sentinel saves
        self._written = (None, 0.0)
        self._last_sweep = 0.0

    # The sentinel hands its broker to the pusher; with the "spawn" start method it travels pickled.
    def __getstate__(self):
        return (*super().__getstate__(), self.stat_key)

    def __setstate__(self, state):
        super().__setstate__(state[:2])
        self._forget_progress()
        self.stat_key = state[2]

    # -- heartbeats ----------------------------------------------------------------------------------------

    def set_stat(self, key: str, value: str, timeout: int):
        try:
            stat = SignedPackage.loads(value)
        except BadSignature:
            return
        self.stat_key = key
        summary = (stat.status, tuple(stat.workers))
        written, at = self._written
        if summary == written and time.monotonic() - at < HEARTBEAT_SECONDS:
            return
        if db.transaction.get_autocommit():  # as django-q2's own ORM broker does, never inside a transaction
            db.close_old_connections()  # the sentinel lives for days; a connection broken meanwhile is replaced
        if stat.status == Conf.STOPPED:
            ClusterStat.objects.filter(key=key).delete()
        else:
            ClusterStat.objects.update_or_create(
                key=key,
                defaults={
                    "host": stat.host,
                    "sentinel_pid": stat.sentinel or 0,
                    "worker_pids": list(stat.workers),
                    "status": str(stat.status),
                    "packed": value,
                    "seen": timezone.now(),
                },
            )
        self._written = (summary, time.monotonic())

    def get_stat(self, key: str):
        return live_stats().filter(key=key).values_list("packed", flat=True).first()

    def get_stats(self, pattern: str) -> list:
        return list(live_stats().values_list("packed", flat=True))

    # -- leases --------------------------------------------------------------------------------------------

    def dequeue(self):
        self._sweep_now_and_then()
        tasks = self._take_oldest()
        if tasks and self.stat_key:
            self._record_takes(tasks)
        return tasks

    def _take_oldest(self):
        """django-q2's ORM dequeue, oldest job first.

        Its query has no order, so PostgreSQL answers in the order the rows lie on disk; taking and then
        releasing a job rewrites its row behind every job queued since, and a killed worker's batch would
        wait for the whole queue to drain.
        """
        now = timezone.now()
        waiting = list(self.get_connection().filter(key=self.list_key, lock__lt=now).order_by("pk")[: Conf.BULK])
        if not waiting:
            time.sleep(Conf.POLL)  # as django-q2's: an empty queue spares the CPU
            return None
        # A job another cluster took first no longer has the lock that was read; it is skipped.
        return [
            (job.pk, job.payload)
            for job in waiting
            if self.get_connection().filter(pk=job.pk, lock=job.lock).update(lock=self.timeout(job))
        ]

    def _record_takes(self, tasks):
        holder = {
            "cluster_key": self.stat_key,
            "host": socket.gethostname(),
            "sentinel_pid": os.getppid(),  # the pusher is a child of the sentinel
            "worker_pid": None,
            "started": None,
            "taken": timezone.now(),
        }
        for ack_id, payload in tasks:
            try:
                if not JobLease.objects.filter(job_id=ack_id).update(**holder, deliveries=F("deliveries") + 1):
                    JobLease.objects.create(job_id=ack_id, **_describe(payload), **holder)
            except IntegrityError:
                pass  # the job was acknowledged in the meantime
            except Exception:
                log.exception("Could not record the lease of job %s; it is retried after Q_TIMEOUT + 300 s", ack_id)

    def _sweep_now_and_then(self):
        if time.monotonic() - self._last_sweep < SWEEP_SECONDS:
            return
        self._last_sweep = time.monotonic()
        try:
            release_stranded_jobs(self)
        except Exception:
            log.exception("Could not look for stranded jobs")

    def stranded_size(self, group_prefix: str = "") -> int:
        return sum(1 for lease in stranded_leases() if lease.group.startswith(group_prefix))


def live_stats():
    return ClusterStat.objects.filter(seen__gte=timezone.now() - timedelta(seconds=STALE_SECONDS))


def _describe(payload: str) -> dict:
    try:
        task = SignedPackage.loads(payload)
    except (BadSignature, TypeError, ValueError):
        return {"func": "", "group": ""}
    return {"func": get_func_repr(task.get("func"))[:256], "group": (task.get("group") or "")[:100]}


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def holder_is_gone(lease: JobLease, stat: ClusterStat | None) -> bool:
    """Whether the cluster or worker holding `lease` has stopped; `stat` is its cluster's live heartbeat."""
    if stat is None:
        return True  # its cluster has not reported for STALE_SECONDS
    if lease.host == socket.gethostname() and not _process_exists(lease.sentinel_pid):
        return True  # killed on this machine: no need to wait for the heartbeat to go stale
    if lease.worker_pid is not None and lease.started is not None and stat.seen > lease.started:
        # The cluster replaces a dead worker at once; a pool reported after the job started without that
        # worker in it means the worker died with the job.
        return lease.worker_pid not in stat.worker_pids
    return False


def stranded_leases() -> list[JobLease]:
    """Leases of jobs still locked in the queue whose holder is gone."""
    now = timezone.now()
    live = {stat.key: stat for stat in live_stats()}
    held = JobLease.objects.filter(job__lock__gt=now).select_related("job")
    return [lease for lease in held if holder_is_gone(lease, live.get(lease.cluster_key))]


def release_stranded_jobs(broker=None) -> dict:
    """Put stranded jobs back in the queue (or fail those whose workers kept dying); returns the counts.

    A job whose result was saved before its cluster died, in the moment before the monitor acknowledged it,
    is acknowledged here instead of being run a second time.
    """
    released = failed = finished = 0
    for lease in stranded_leases():
        if _result_was_saved(lease):
            if OrmQ.objects.filter(pk=lease.job_id, lock=lease.job.lock).delete()[0]:
                finished += 1
                log.warning("Job %s (%s) had finished when its cluster stopped; it is acknowledged, not run again",
                            lease.job_id, lease.func)
        elif Conf.MAX_ATTEMPTS and lease.deliveries >= Conf.MAX_ATTEMPTS:
            failed += _fail(lease, broker)
        elif OrmQ.objects.filter(pk=lease.job_id, lock=lease.job.lock).update(lock=timezone.now()):
            released += 1
            log.warning(
                "Job %s (%s) was held by a worker that stopped (%s:%s); it is back in the queue",
                lease.job_id, lease.func, lease.host, lease.worker_pid or lease.sentinel_pid,
            )
    ClusterStat.objects.filter(seen__lt=timezone.now() - FORGET_STATS_AFTER).delete()
    return {"released": released, "failed": failed, "finished": finished}


def _result_was_saved(lease: JobLease) -> bool:
    """Whether the monitor saved this job's result, one the monitor would then have acknowledged."""
    try:
        task_id = SignedPackage.loads(lease.job.payload).get("id")
    except BadSignature:
        return False
    results = Task.objects.filter(id=task_id)
    # As django-q2's monitor: a success is acknowledged, a failure only with ack_failures (else it is retried).
    return (results if Conf.ACK_FAILURES else results.filter(success=True)).exists()


def _fail(lease: JobLease, broker) -> int:
    from django_q.monitor import save_task  # imports the cluster's machinery: only when needed

    deleted, _ = OrmQ.objects.filter(pk=lease.job_id, lock=lease.job.lock).delete()
    if not deleted:
        return 0
    try:
        task = SignedPackage.loads(lease.job.payload)
    except BadSignature:
        return 1
    reason = (
        f"Stopped: the worker running this job died {lease.deliveries} times (killed, or out of memory); "
        "it is not offered again."
    )
    task.update(success=False, result=reason, stopped=timezone.now())
    task.pop("ack_id", None)
    save_task(task, broker or LeasedORM())
    log.error("Job %s (%s): %s", lease.job_id, lease.func, reason)
    return 1
