"""A database outage answers a 503 page ("restarting, back in a moment") instead of a 500.

Django turns an exception raised below a middleware into a 500 response before that middleware sees it, so
the exception is recognised where Django reports it (the got_request_exception signal, sent for every
uncaught exception while it is being handled) and marked on the request; this middleware, placed above all
that touch the database, then swaps the 500 for the 503 page. With the embedded server it also checks before
each request that the server's process is alive (a signal 0), so a dead server is started again by the next
request and answers at once, not after the connection pool's wait. With DATABASE_URL (a server of your own)
it only answers the 503.
"""

import sys
import threading

from django import db
from django.conf import settings
from django.core.signals import got_request_exception
from django.dispatch import receiver
from django.http import HttpResponse
from django.template import loader

from discovery import embedded_postgres

RETRY_AFTER_SECONDS = 5
HEALTH_PATH = "/healthz"


def is_outage(exc: BaseException) -> bool:
    """A lost or refused connection, a server shutting down, too many clients; not a failing query."""
    if isinstance(exc, db.InterfaceError):
        return True
    if not isinstance(exc, db.OperationalError):
        return False
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    # No SQLSTATE: the connection itself failed (or the pool waited in vain). 08: connection exception,
    # 57P: the server is shutting down or starting, 53: out of resources ("too many clients already").
    return sqlstate is None or sqlstate.startswith(("08", "57P", "53"))


@receiver(got_request_exception)
def mark_database_outage(sender, request=None, **kwargs):
    exc = sys.exc_info()[1]
    if request is not None and exc is not None and is_outage(exc):
        request.database_outage = exc


def outage_response() -> HttpResponse:
    # Rendered without the request: nothing on the page may need the user or the database.
    response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


_pools_lock = threading.Lock()
_pools_serve = {"postmaster": None}  # the server process this process's pools connect to


def fresh_connection_pools(postmaster_pid: int | None) -> None:
    """Start this process's pools anew, once per server start: their connections died with the old server,
    and a pool whose attempts to reconnect failed waits longer and longer before the next one."""
    with _pools_lock:
        if _pools_serve["postmaster"] == postmaster_pid:
            return  # another thread did it for this server already
        _pools_serve["postmaster"] = postmaster_pid
        for connection in db.connections.all():
            if connection.settings_dict["OPTIONS"].get("pool"):
                connection.close_pool()


class DatabaseOutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        data_dir = settings.EMBEDDED_DATABASE_DIR
        if data_dir and not embedded_postgres.is_running(data_dir):
            # The request that finds the server dead starts it (others wait for that, a few seconds at most)
            # and goes on; while it cannot be started, pages are the 503. The health check always goes on: it
            # reports the outage itself, as JSON.
            if embedded_postgres.ensure_running(data_dir):
                fresh_connection_pools(embedded_postgres.postmaster_pid(data_dir))
            elif request.path_info != HEALTH_PATH:
                return outage_response()
        response = self.get_response(request)
        if getattr(request, "database_outage", None) is not None:
            if data_dir and embedded_postgres.ensure_running(data_dir):
                fresh_connection_pools(embedded_postgres.postmaster_pid(data_dir))
            db.close_old_connections()  # this thread's broken connection goes; the pool checks the others
            return outage_response()
        return response
