import logging
import os

from django.dispatch import receiver
from django.utils import timezone
from django_q.signals import pre_execute

from discovery.jobs.models import JobLease

log = logging.getLogger(__name__)


@receiver(pre_execute)
def note_the_worker_running_a_job(sender, func, task, **kwargs):
    """Record which worker process started a queued job, so that its death frees the job (broker.py)."""
    ack_id = task.get("ack_id")
    if task.get("sync") or not isinstance(ack_id, int):
        return  # run in-process, or by a broker without leases (Redis)
    try:
        JobLease.objects.filter(job_id=ack_id).update(worker_pid=os.getpid(), started=timezone.now())
    except Exception:  # bookkeeping must never stop the job itself
        log.exception("Could not note the worker of job %s", ack_id)
