"""Test-only pages that fail the way a lost database makes pages fail (tests/test_outage.py)."""

import psycopg
from django.contrib.auth.decorators import login_not_required
from django.db import OperationalError
from django.http import HttpResponse
from django.urls import path

from discovery.urls import urlpatterns as site_urlpatterns


@login_not_required
def connection_lost(request):
    raise OperationalError("server closed the connection unexpectedly")


@login_not_required
def query_cancelled(request):
    try:
        raise psycopg.errors.QueryCanceled("canceling statement due to statement timeout")
    except psycopg.Error as exc:
        raise OperationalError(str(exc)) from exc


@login_not_required
def fine(request):
    return HttpResponse("fine")


urlpatterns = [
    path("test/connection-lost/", connection_lost),
    path("test/query-cancelled/", query_cancelled),
    path("test/fine/", fine),
    *site_urlpatterns,
]
