"""A lost database answers a styled 503 that says the site is restarting; a dead embedded server is restarted.

The shared embedded server is never killed here (other test runs use it): outages are simulated by views and
sessions that raise what a lost connection raises. tests/test_embedded_postgres.py restarts a real, private
server, and the drill in the report kills one under a running site.
"""

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError
from django.test import Client, override_settings

from discovery import outage

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.outage_urls")]


@pytest.fixture
def browser_client():
    return Client(raise_request_exception=False)


@pytest.fixture
def restarts(monkeypatch):
    """Stand-ins for the embedded server's watch: it is up unless a test says otherwise; calls are recorded."""
    calls = {"ensure_running": 0, "up": True, "starts": True}

    def ensure_running(data_dir):
        calls["ensure_running"] += 1
        return calls["starts"]

    monkeypatch.setattr(outage.embedded_postgres, "is_running", lambda data_dir: calls["up"])
    monkeypatch.setattr(outage.embedded_postgres, "ensure_running", ensure_running)
    return calls


def assert_restarting_page(response):
    page = response.content.decode()
    assert response.status_code == 503 and response["Retry-After"] == str(outage.RETRY_AFTER_SECONDS)
    assert "Wavelength is restarting" in page and "css/site.css" in page and 'class="topbar"' in page


@override_settings(EMBEDDED_DATABASE_DIR="/tmp/wavelength-data")
def test_a_lost_connection_is_a_503_and_asks_the_embedded_server_to_start(browser_client, restarts):
    assert_restarting_page(browser_client.get("/test/connection-lost/"))
    assert restarts["ensure_running"] == 1


@override_settings(EMBEDDED_DATABASE_DIR=None)
def test_with_a_server_of_your_own_it_only_answers_the_503(browser_client, restarts):
    assert_restarting_page(browser_client.get("/test/connection-lost/"))
    assert restarts["ensure_running"] == 0


@override_settings(EMBEDDED_DATABASE_DIR="/tmp/wavelength-data")
def test_a_failing_query_is_still_a_500(browser_client, restarts):
    response = browser_client.get("/test/query-cancelled/")
    assert response.status_code == 500 and "Something went wrong on our side" in response.content.decode()
    assert restarts["ensure_running"] == 0


@override_settings(EMBEDDED_DATABASE_DIR=None)
def test_an_outage_below_the_view_is_a_503_too(browser_client, owner, monkeypatch):
    browser_client.force_login(owner)

    def lost(self):
        raise OperationalError("connection to server on socket failed: No such file or directory")

    monkeypatch.setattr(SessionStore, "load", lost)  # read by the login check, before any view runs
    assert_restarting_page(browser_client.get("/"))


@override_settings(EMBEDDED_DATABASE_DIR="/tmp/wavelength-data")
def test_a_dead_embedded_server_is_started_by_the_next_request_which_then_goes_on(browser_client, restarts):
    restarts["up"] = False
    response = browser_client.get("/test/fine/")
    assert response.status_code == 200 and restarts["ensure_running"] == 1


@override_settings(EMBEDDED_DATABASE_DIR="/tmp/wavelength-data")
def test_while_it_cannot_start_yet_every_page_is_the_503(browser_client, restarts):
    restarts["up"], restarts["starts"] = False, False
    assert_restarting_page(browser_client.get("/test/fine/"))
