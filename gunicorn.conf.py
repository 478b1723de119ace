"""gunicorn's settings for the site (`make run`, the Docker image); every value can be set from the environment.

Threads, not processes, carry concurrency: a page spends most of its time waiting on PostgreSQL, and each
process holds a copy of the app. Each thread uses at most one database connection from its process's pool
(settings.py), so the site never opens more than WEB_WORKERS x WEB_THREADS connections whatever the load;
further requests wait in gunicorn's queue instead of failing with "too many clients".
"""

import os

# The CPUs this process may use (a container's share, not the host's), two processes at least so that one
# slow request never holds up the site, and at most eight to keep connections well under the server's limit.
_cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)

bind = "127.0.0.1:8000"  # `make run` and the Docker image name theirs with --bind
worker_class = "gthread"
workers = int(os.environ.get("WEB_WORKERS") or min(max(_cpus, 2), 8))
threads = int(os.environ.get("WEB_THREADS") or 8)
# Uploads of whole albums through the admin take minutes on a slow link; a worker is only killed after this.
timeout = int(os.environ.get("WEB_TIMEOUT") or 300)
graceful_timeout = 30
keepalive = 5
accesslog = "-"
# Requests that name their client address, method, path, status, bytes and duration in microseconds.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(D)sus'

# The app is loaded in each worker after it forks: connection pools and the embedded server's bookkeeping are
# per process. settings.py sizes the pool from WEB_THREADS and turns it on with DATABASE_POOL.
os.environ["WEB_THREADS"] = str(threads)
os.environ.setdefault("DATABASE_POOL", "1")
