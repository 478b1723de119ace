"""GET /healthz, for Docker and monitoring: the database answers, a worker is alive, what is queued.

200 when the database and at least one worker cluster are up, 503 otherwise; the body says which, as JSON.
The worker's heartbeat is django-q2's own cluster status (Stat), which the database broker keeps in the
database (discovery/jobs/broker.py) and Redis keeps in Redis, so every process sees it.
"""

import time

from django.contrib.auth.decorators import login_not_required
from django.db import connection, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.status import Stat

RUNNING = {Conf.STARTING, Conf.IDLE, Conf.WORKING}


def _reason(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def database_check() -> dict:
    started = time.monotonic()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = '2s'")  # a wedged server must not wedge the check
            cursor.execute("SELECT 1")
    except Exception as exc:
        return {"ok": False, "error": _reason(exc)}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def worker_check() -> dict:
    try:
        clusters = [stat for stat in Stat.get_all() if stat.status in RUNNING]
    except Exception as exc:
        return {"ok": False, "error": _reason(exc)}
    if not clusters:
        return {"ok": False, "error": "No worker is running: start one with `python manage.py qcluster`."}
    newest = max(stat.timestamp for stat in clusters)
    return {
        "ok": True,
        "clusters": len(clusters),
        "workers": sum(len(stat.workers) for stat in clusters),
        "last_heartbeat_seconds": round((timezone.now() - newest).total_seconds(), 1),
    }


def queue_check() -> dict:
    broker = get_broker()
    try:
        report = {"queued": broker.queue_size() or 0, "taken": broker.lock_size() or 0}
        if hasattr(broker, "stranded_size"):
            report["stranded"] = broker.stranded_size()
    except Exception as exc:
        return {"error": _reason(exc)}
    return report


@login_not_required
@require_safe
@never_cache
def healthz(request):
    report = {"database": database_check(), "worker": worker_check(), "queue": queue_check()}
    healthy = report["database"]["ok"] and report["worker"]["ok"]
    report["status"] = "ok" if healthy else "unhealthy"
    return JsonResponse(report, status=200 if healthy else 503)
