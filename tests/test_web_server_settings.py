"""gunicorn's sizing and the database pool: connections stay bounded whatever the load."""

import os
import runpy
import subprocess
import sys
from pathlib import Path

from discovery.embedded_postgres import MAX_CONNECTIONS
from tests.test_settings import PRODUCTION_ENV, process_env, settings_values

ROOT = Path(__file__).resolve().parent.parent


def gunicorn_config(monkeypatch, **env):
    # The file sets variables for the app it starts; here they must not leak into this test process.
    environ = {k: v for k, v in os.environ.items() if k not in {"WEB_WORKERS", "WEB_THREADS", "WEB_TIMEOUT"}}
    monkeypatch.setattr(os, "environ", {**environ, **env})
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_runs_threads_sized_from_the_cpus_with_an_upload_friendly_timeout(monkeypatch):
    config = gunicorn_config(monkeypatch)
    assert config["worker_class"] == "gthread" and 2 <= config["workers"] <= 8 and config["threads"] == 8
    assert config["timeout"] == 300
    # The site, the worker's processes and a management command or two stay well inside the server's limit.
    assert config["workers"] * config["threads"] + 10 < MAX_CONNECTIONS


def test_gunicorn_settings_come_from_the_environment(monkeypatch):
    config = gunicorn_config(monkeypatch, WEB_WORKERS="3", WEB_THREADS="4", WEB_TIMEOUT="120")
    assert (config["workers"], config["threads"], config["timeout"]) == (3, 4, 120)


def test_gunicorn_turns_on_the_pool_sized_to_its_threads(tmp_path):
    env = {"DATABASE_URL": PRODUCTION_ENV["DATABASE_URL"], "WAVELENGTH_DATA": str(tmp_path)}
    database = settings_values({**env, "DATABASE_POOL": "1", "WEB_THREADS": "6"}, "DATABASES")["DATABASES"]
    default = database["default"]
    assert default["CONN_MAX_AGE"] == 0  # Django refuses persistent connections with a pool
    pool = default["OPTIONS"]["pool"]
    assert pool["max_size"] == 6 and pool["min_size"] == 1 and pool["timeout"] == 10.0
    assert default["CONN_HEALTH_CHECKS"]  # the pool then checks connections: none broken by a restart is handed out


def test_the_worker_and_commands_connect_without_a_pool(tmp_path):
    env = {"DATABASE_URL": PRODUCTION_ENV["DATABASE_URL"], "WAVELENGTH_DATA": str(tmp_path)}
    default = settings_values(env, "DATABASES")["DATABASES"]["default"]
    assert "pool" not in default["OPTIONS"] and default["OPTIONS"]["connect_timeout"] == 5


def test_the_pooled_settings_really_connect():
    """What a gunicorn worker does: settings with the pool on, a query, the connection back to the pool."""
    code = (
        "import django; django.setup(); from django.db import connection; "
        "cursor = connection.cursor(); cursor.execute('SELECT 1'); "
        "print(connection.pool.max_size, cursor.fetchone()[0]); connection.close(); connection.close_pool()"
    )
    env = process_env({"DJANGO_SETTINGS_MODULE": "discovery.settings", "DATABASE_POOL": "1", "WEB_THREADS": "3"})
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["3", "1"]
