"""The embedded server is shared by every process of the project and stops when the last one exits."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from discovery.embedded_postgres import EmbeddedDatabaseError, database_settings

ROOT = Path(__file__).resolve().parent.parent

USER_PROCESS = """
import sys
from pathlib import Path
from discovery.embedded_postgres import database_settings
settings = database_settings(Path(sys.argv[1]))
print(settings["HOST"], settings["PORT"], flush=True)
sys.stdin.readline()
"""


class ProjectProcess:
    """A process of the project (web, worker, command) that uses the embedded server until told to exit."""

    def __init__(self, data_dir: Path):
        self.process = subprocess.Popen(
            [sys.executable, "-c", USER_PROCESS, str(data_dir)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        line = self.process.stdout.readline()
        if not line:
            raise AssertionError(self.process.stderr.read())
        host, port = line.split()
        self.uri = f"postgresql://postgres@/wavelength?host={host}&port={port}"

    def exit(self):
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        assert self.process.wait(timeout=30) == 0, self.process.stderr.read()

    def kill(self, signum=signal.SIGKILL):
        self.process.send_signal(signum)
        self.process.wait(timeout=30)


def server_is_running(data_dir: Path) -> bool:
    pid_file = data_dir / "postgres" / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_until_stopped(data_dir: Path, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not server_is_running(data_dir):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def data_dir(tmp_path):
    yield tmp_path / "var"
    # Leave no server behind whatever the test did.
    pid_file = tmp_path / "var" / "postgres" / "postmaster.pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGTERM)
        except (ProcessLookupError, ValueError):
            pass


def test_one_server_serves_several_processes_and_stops_after_the_last(data_dir):
    web = ProjectProcess(data_dir)
    worker = ProjectProcess(data_dir)
    assert web.uri == worker.uri
    with psycopg.connect(worker.uri) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("wavelength",)

    web.exit()
    assert server_is_running(data_dir)
    with psycopg.connect(worker.uri) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)

    worker.exit()
    assert wait_until_stopped(data_dir)


def test_a_killed_process_does_not_keep_the_server_up_forever(data_dir):
    crashed = ProjectProcess(data_dir)
    crashed.kill()
    assert server_is_running(data_dir)  # nobody stopped it

    later = ProjectProcess(data_dir)
    later.exit()
    assert wait_until_stopped(data_dir)


def test_a_process_stopped_with_sigterm_leaves_cleanly(data_dir):
    web = ProjectProcess(data_dir)
    web.kill(signal.SIGTERM)  # what `docker stop`, systemd and `make run` send
    assert wait_until_stopped(data_dir)


def test_data_survive_a_restart(data_dir):
    first = ProjectProcess(data_dir)
    with psycopg.connect(first.uri, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (note text)")
        conn.execute("INSERT INTO kept VALUES ('still here')")
    first.exit()
    assert wait_until_stopped(data_dir)

    second = ProjectProcess(data_dir)
    with psycopg.connect(second.uri) as conn:
        assert conn.execute("SELECT note FROM kept").fetchone() == ("still here",)
    second.exit()


def test_a_server_that_cannot_start_says_why_and_what_to_do(data_dir):
    pgdata = data_dir / "postgres"
    pgdata.mkdir(parents=True)
    (pgdata / "PG_VERSION").write_text("9\n")  # a data directory from a PostgreSQL this package cannot run
    with pytest.raises(EmbeddedDatabaseError) as error:
        database_settings(data_dir)
    message = str(error.value)
    assert f"The embedded PostgreSQL server under {pgdata} could not start" in message
    assert "is incomplete or was made by another PostgreSQL version. Move it aside" in message
    assert "Last lines of the server log" in message


def test_a_killed_server_is_started_again_on_request_with_its_data(data_dir):
    from discovery import embedded_postgres

    site = ProjectProcess(data_dir)  # another process keeps using it all along, as gunicorn's workers do
    settings = database_settings(data_dir)
    uri = f"postgresql://postgres@/wavelength?host={settings['HOST']}&port={settings['PORT']}"
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (note text)")
        conn.execute("INSERT INTO kept VALUES ('still here')")

    postmaster = int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
    os.kill(postmaster, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while embedded_postgres.is_running(data_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not embedded_postgres.is_running(data_dir)

    deadline = time.monotonic() + 30  # old backends may take a moment to notice and exit
    while not embedded_postgres.ensure_running(data_dir) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert embedded_postgres.is_running(data_dir)
    with psycopg.connect(uri) as conn:
        assert conn.execute("SELECT note FROM kept").fetchone() == ("still here",)
        # Raised when the server was first set up, in force since this start.
        assert conn.execute("SHOW max_connections").fetchone() == (str(embedded_postgres.MAX_CONNECTIONS),)
    site.exit()
