"""The project's own PostgreSQL server, used when DATABASE_URL is unset.

One server per data directory serves every process of the project at once: the web server, the worker,
management commands and the test run. pgserver records the processes that use the server in a list under
the data directory and stops the server when the last of them exits. A process killed with SIGKILL never
removes itself from that list, so before joining we drop the entries of processes that are gone; otherwise
the server would never be stopped again.

The server listens on a Unix socket only (no TCP port), so two checkouts on one machine never collide.

If the server dies (killed, out of memory) while the site runs, the next request starts it again
(`ensure_running`, called by discovery/outage.py); pgserver's lock, shared by every process, lets exactly one
of them start it while the others find it running.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

DATABASE_NAME = "wavelength"
POSTGRES_USER = "postgres"
# PostgreSQL's default of 100 is too few for the site (WEB_WORKERS x WEB_THREADS), the worker's processes, a
# management command and a test run at once; each allowed connection costs only a little shared memory.
MAX_CONNECTIONS = 200

log = logging.getLogger(__name__)
_restarting = threading.Lock()

_servers: dict = {}  # pgdata -> pgserver handle, kept for the life of the process


class EmbeddedDatabaseError(RuntimeError):
    """The embedded PostgreSQL server could not be started; the message says why and what to do."""


def database_settings(data_dir: Path) -> dict:
    """Start (or join) the server under ``data_dir/postgres`` and return Django's DATABASES entry."""
    pgdata = Path(data_dir).expanduser().resolve() / "postgres"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # platformdirs warns on every start when XDG_RUNTIME_DIR is unset (servers, CI); its fallback is fine.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    try:
        import pgserver
    except ImportError as exc:
        raise EmbeddedDatabaseError(
            "The embedded PostgreSQL needs the 'pgserver' package. Run `make install`, "
            "or set DATABASE_URL to use a PostgreSQL server of your own."
        ) from exc

    # pgserver logs its failures itself; ours below carry the same server log plus what to do about it.
    logging.getLogger("pgserver").setLevel(logging.CRITICAL)
    server = _servers.get(pgdata)
    if server is None:
        _forget_dead_processes(pgserver.PostgresServer, pgdata)
        try:
            server = _servers[pgdata] = pgserver.get_server(pgdata, cleanup_mode="stop")
        except Exception as exc:  # pgserver raises bare RuntimeError/CalledProcessError/AssertionError
            raise EmbeddedDatabaseError(_explain_start_failure(exc, pgdata)) from exc
        _exit_cleanly_on_sigterm()
        _allow_enough_connections(server)
    info = server.get_postmaster_info()
    _ensure_database(server.get_uri("postgres"))
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": POSTGRES_USER,
        "HOST": str(info.socket_dir),
        "PORT": str(info.port),
    }


def is_running(data_dir: Path) -> bool:
    """Whether the server this process joined is still up: a signal 0 to its postmaster, cheap per request."""
    server = _servers.get(_pgdata(data_dir))
    if server is None or server._postmaster_info is None:
        return True  # not a server this process started or joined: nothing to watch
    return _postmaster_alive(server._postmaster_info.pid)


def postmaster_pid(data_dir: Path) -> int | None:
    """The PID of the server this process knows of; it changes when the server is started again."""
    server = _servers.get(_pgdata(data_dir))
    return server._postmaster_info.pid if server is not None and server._postmaster_info is not None else None


def ensure_running(data_dir: Path, wait: float = 5.0) -> bool:
    """Start the server again if it has died; True once it runs.

    A thread that finds another one of this process starting it waits for that, `wait` seconds at most.
    """
    from pgserver.utils import PostmasterInfo

    server = _servers.get(_pgdata(data_dir))
    if server is None:
        return False
    if not _restarting.acquire(timeout=wait):
        return False  # still starting: this request gets the 503
    try:
        with server._lock:  # pgserver's lock across processes: one starts it, the others then find it running
            info = PostmasterInfo.read_from_pgdata(server.pgdata)
            if info is not None and _postmaster_alive(info.pid):
                server._postmaster_info = info  # another process started it already
                return True
            if info is not None and not _forget_dead_postmaster(server.pgdata, info):
                return False
            started = time.monotonic()
            server._postmaster_info = None
            server.ensure_postgres_running()
        log.warning("The embedded PostgreSQL under %s had stopped; started it again in %.1f s",
                    server.pgdata, time.monotonic() - started)
        return _postmaster_alive(server.get_pid())
    except Exception:  # a failed start (a full disk, a damaged data directory): the next request tries again
        log.exception("The embedded PostgreSQL under %s is down and could not be started yet", server.pgdata)
        return False
    finally:
        _restarting.release()


def _forget_dead_postmaster(pgdata: Path, info) -> bool:
    """Remove the lock file of a postmaster that died unreaped, once none of its backends is left.

    A killed postmaster stays a zombie until its parent (often PID 1) reaps it, and PostgreSQL refuses to
    start while the lock file names a PID that exists, zombie or not; some containers' PID 1 never reaps.
    The lock file is only removed once no process is attached to the old server's shared memory any more,
    the same check PostgreSQL makes, so two servers never share one data directory. False: not yet.
    """
    import psutil

    try:
        if psutil.Process(info.pid).status() != psutil.STATUS_ZOMBIE:
            return True  # gone altogether: PostgreSQL sees that itself
    except psutil.NoSuchProcess:
        return True
    if _shared_memory_attachments(info.shmem_info) != 0:
        return False  # its backends are still exiting
    locks = [pgdata / "postmaster.pid"]
    if info.socket_dir is not None and info.port is not None:
        locks.append(Path(info.socket_dir) / f".s.PGSQL.{info.port}.lock")  # names the same dead PID
    for lock in locks:
        try:
            if lock.read_text().split()[0] == str(info.pid):
                lock.unlink()
        except (OSError, IndexError):
            pass
    return True


def _shared_memory_attachments(shmem_info: str) -> int | None:
    """How many processes are attached to the System V segment `shmem_info` ("key id") names; 0 if gone."""
    try:
        shmid = shmem_info.split()[1]
        rows = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except (IndexError, OSError):
        return None  # cannot tell: keep the lock file
    for row in rows:
        fields = row.split()  # key shmid perms size cpid lpid nattch ...
        if fields[1] == shmid:
            return int(fields[6])
    return 0


def _pgdata(data_dir: Path) -> Path:
    return Path(data_dir).expanduser().resolve() / "postgres"


def _postmaster_alive(pid: int | None) -> bool:
    import psutil

    try:
        return pid is not None and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _allow_enough_connections(server) -> None:
    """Raise max_connections to MAX_CONNECTIONS from the server's next start on.

    Not restarted for it here: other processes may be using it. Every project process that leaves last stops
    it, so `make run`, after `migrate` and `collectstatic`, already runs a server with the new limit.
    """
    import psycopg

    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        if int(conn.execute("SHOW max_connections").fetchone()[0]) < MAX_CONNECTIONS:
            conn.execute(f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS}")


def _exit_cleanly_on_sigterm() -> None:
    """Turn SIGTERM into a normal exit, so that this process leaves the server's user list on its way out.

    Python's default SIGTERM action ends the process without running atexit handlers, and a process that
    never leaves the list keeps the server up. Programs that handle SIGTERM themselves (gunicorn, qcluster)
    install their own handler later and are unaffected.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def _forget_dead_processes(server_class, pgdata: Path) -> None:
    pid_list = pgdata / ".handle_pids.json"
    if not pid_list.exists():
        return
    import json

    import psutil

    with server_class._lock:
        try:
            pids = json.loads(pid_list.read_text())
        except (OSError, ValueError):
            pids = []
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            pid_list.write_text(json.dumps(alive))


def _ensure_database(admin_uri: str) -> None:
    import psycopg
    from psycopg import errors, sql

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if exists:
            return
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))
        except errors.DuplicateDatabase:
            pass  # another process created it between our check and our CREATE


def _explain_start_failure(exc: Exception, pgdata: Path) -> str:
    log_tail = _log_tail(pgdata / "log")
    text = f"{exc}\n{log_tail}"
    if "suitable socket path" in text or "path too long" in text:
        advice = (
            f"The data directory {pgdata} is too deep for a Unix socket path (about 100 characters at most). "
            "Set WAVELENGTH_DATA to a shorter directory, e.g. WAVELENGTH_DATA=~/.wavelength."
        )
    elif "lock file" in text or "already in use" in text or "Address already in use" in text:
        advice = (
            f"Another PostgreSQL holds the lock or socket for {pgdata}. Stop it "
            f"(`{_pg_ctl()} -D {pgdata} stop`), or if no such server runs, remove the stale "
            f"{pgdata / 'postmaster.pid'} and try again."
        )
    elif "Permission denied" in text or isinstance(exc, PermissionError):
        advice = (
            f"PostgreSQL may not read or write {pgdata}. Make the directory writable for the user that runs "
            "the server, or point WAVELENGTH_DATA elsewhere."
        )
    elif "configuration file" in text or "incompatible with server" in text or "PG_VERSION" in text:
        advice = (
            f"{pgdata} is incomplete or was made by another PostgreSQL version. Move it aside (or delete it, "
            "if it holds nothing you need) and start again: a new, empty database is then created."
        )
    elif "No space left" in text:
        advice = f"The disk holding {pgdata} is full. Free some space and try again."
    else:
        advice = (
            "Read the server log below. To use another PostgreSQL (with the pgvector extension) instead, "
            "set DATABASE_URL=postgres://user:password@host:5432/dbname."
        )
    return (
        f"The embedded PostgreSQL server under {pgdata} could not start.\n"
        f"{advice}\n{log_tail}".rstrip()
    )


def _log_tail(log: Path, lines: int = 15) -> str:
    try:
        tail = log.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return "Last lines of the server log:\n  " + "\n  ".join(tail) if tail else ""


def _pg_ctl() -> str:
    try:
        from pgserver import POSTGRES_BIN_PATH

        return os.fspath(POSTGRES_BIN_PATH / "pg_ctl")
    except ImportError:
        return "pg_ctl"
