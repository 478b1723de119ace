"""Load: N signed-in listeners, each thumbing their own station for T seconds, against the site as `make run`
serves it (gunicorn with gunicorn.conf.py), on a database of its own.

    .venv/bin/python bench/bench_load.py [--users 50] [--seconds 60] [--tracks 600] [--keep-data DIR]

Each listener logs in, opens its station, then loops: POST /stations/<id>/thumbs/ (HTMX, alternately "up",
"down" and "clear" on tracks of its list) as fast as the server answers. It reports requests, errors by
status, latency p50/p95/p99 (client round trip on 127.0.0.1), and checks every acknowledged thumb (a 200) against
the database afterwards: the last acknowledged value per (station, track) must be the stored one.

The clients run as threads in this process, on the same cores as the server: on a small machine the figures
include the client's own cost. A fresh data directory (its own embedded PostgreSQL) is made under a temporary
folder unless --keep-data names one.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "load-test-listener-42"
VALUES = ("up", "down", "clear")


def private_data_dir(prefix: str, keep: str | None = None) -> str:
    """Point this process (and the servers it starts) at a data directory of its own: its own embedded
    PostgreSQL, never the developer's. `keep` names one to reuse instead of a fresh temporary one."""
    data_dir = keep or tempfile.mkdtemp(prefix=prefix)
    os.environ["WAVELENGTH_DATA"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "discovery.settings")
    os.environ.pop("DATABASE_URL", None)
    return data_dir


def prepare(users: int, tracks: int) -> list[tuple[str, int, list[int]]]:
    """Users load-0 … with one station each, on a catalogue of `tracks` embedded tracks; (name, station, ids)."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from taste.stations.recommendations import recommendations
    from taste.stations.services import create_station
    from tests.catalogue import make_catalogue
    from tracks.models import Track

    if not Track.objects.exists():
        make_catalogue(clusters=10, per_cluster=max(tracks // 10, 4))
    User = get_user_model()
    ids = list(Track.objects.order_by("pk").values_list("pk", flat=True))
    listeners = []
    for index in range(users):
        user, created = User.objects.get_or_create(username=f"load-{index}")
        if created:
            user.set_password(PASSWORD)
            user.save()
        station = user.stations.first() or create_station(user, [ids[(7 * index) % len(ids)]], f"Load {index}")
        listeners.append((user.username, station.pk, [r.track.pk for r in recommendations(station)][:10]))
    return listeners


def start_server(port: int, log) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
               "discovery.wsgi", "--access-logfile", "/dev/null"]
    server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5):
                return server
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
    os.killpg(server.pid, signal.SIGTERM)
    raise SystemExit("The server did not answer within 60 s; see its log.")


class Listener(threading.Thread):
    def __init__(self, base: str, name: str, station: int, tracks: list[int], until: float, start_gate):
        super().__init__(daemon=True)
        self.base, self.name, self.station, self.tracks, self.until = base, name, station, tracks, until
        self.start_gate = start_gate
        self.latencies: list[float] = []
        self.statuses: Counter = Counter()
        self.acknowledged: dict[int, str] = {}  # track -> last value the server confirmed
        self.failure = ""

    def run(self) -> None:
        from bench.search_thumbs import log_in

        try:
            opener, csrf = log_in(self.base, self.name, PASSWORD)
        # A listener that cannot even log in is an error to report, not a crash (log_in exits on a refusal).
        except (Exception, SystemExit) as error:
            self.failure = f"log in: {error}"
            self.statuses["login failed"] += 1
        self.start_gate.wait()  # everyone starts thumbing at once, once all have logged in
        if self.failure:
            return
        url = f"{self.base}/stations/{self.station}/thumbs/"
        step = 0
        while time.monotonic() < self.until and self.tracks:
            track, value = self.tracks[step % len(self.tracks)], VALUES[(step // len(self.tracks)) % 3]
            step += 1
            data = f"track={track}&value={value}".encode()
            request = urllib.request.Request(url, data, headers={"HX-Request": "true", "X-CSRFToken": csrf})
            started = time.perf_counter()
            try:
                with opener.open(request, timeout=120) as response:
                    response.read()
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
                status = f"no answer ({type(error).__name__})"
            self.latencies.append(time.perf_counter() - started)
            self.statuses[status] += 1
            if status == 200:
                self.acknowledged[track] = value


def lost_thumbs(listeners: list[Listener]) -> int:
    from taste.stations.models import Thumb

    stored = {(t.station_id, t.track_id): t.value for t in Thumb.objects.all()}
    expected = {"up": Thumb.UP, "down": Thumb.DOWN, "clear": None}
    return sum(
        stored.get((listener.station, track)) != expected[value]
        for listener in listeners
        for track, value in listener.acknowledged.items()
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--tracks", type=int, default=600)
    parser.add_argument("--port", type=int, default=8731)
    parser.add_argument("--keep-data", help="data directory to use (and keep) instead of a temporary one")
    args = parser.parse_args()

    data_dir = private_data_dir("wavelength-load-", args.keep_data)
    listeners_setup = prepare(args.users, args.tracks)
    from django.db import connection

    connection.close()
    with open(Path(data_dir) / "server.log", "w") as log:
        server = start_server(args.port, log)
        try:
            base = f"http://127.0.0.1:{args.port}"
            listeners: list[Listener] = []

            def set_deadline():
                for listener in listeners:
                    listener.until = time.monotonic() + args.seconds

            gate = threading.Barrier(len(listeners_setup), action=set_deadline)
            listeners += [Listener(base, *setup, 0.0, gate) for setup in listeners_setup]
            for listener in listeners:
                listener.start()
            for listener in listeners:
                listener.join()
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)

    latencies = [value for listener in listeners for value in listener.latencies]
    statuses = sum((listener.statuses for listener in listeners), Counter())
    errors = {str(status): count for status, count in statuses.items() if status != 200}
    report = {
        "users": args.users,
        "seconds": args.seconds,
        "requests": len(latencies),
        "per_second": round(len(latencies) / args.seconds, 1),
        "errors": errors,
        "responses_5xx": sum(count for status, count in statuses.items() if isinstance(status, int) and status >= 500),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "acknowledged_thumbs": sum(len(listener.acknowledged) for listener in listeners),
        "lost_thumbs": lost_thumbs(listeners),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
