"""Drill: the embedded PostgreSQL is killed while listeners browse; how the site answers and how fast it heals.

    .venv/bin/python bench/bench_database_kill.py [--users 20] [--seconds 15]

Starts the site as `make run` serves it (gunicorn with gunicorn.conf.py) on a database of its own, lets
--users signed-in listeners open their station pages in a loop, kills the server's postmaster with SIGKILL a
few seconds in, and reports every answer by status, how many were 500s (there should be none: the site answers
a 503 "restarting" page), and the time from the kill to the last answer that was not a page.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import urllib.error
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_load import PASSWORD, prepare, private_data_dir, start_server  # noqa: E402


def postmaster_pid(data_dir: str) -> int:
    return int((Path(data_dir) / "postgres" / "postmaster.pid").read_text().split()[0])


def browse(base: str, opener, station: int, until: float, answers: list, first_ok_after: dict, killed_at: dict):
    while time.monotonic() < until:
        try:
            with opener.open(f"{base}/stations/{station}/", timeout=60) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            status = f"no answer ({type(error).__name__})"
        now = time.monotonic()
        answers.append(status)
        if status != 200 and "at" in killed_at:
            # The last answer that was not a page: from then on every listener was served again.
            first_ok_after["seconds"] = max(first_ok_after.get("seconds", 0.0), now - killed_at["at"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--port", type=int, default=8732)
    args = parser.parse_args()

    data_dir = private_data_dir("wavelength-drill-")
    listeners = prepare(args.users, 200)
    from django.db import connection

    connection.close()
    answers: list = []
    first_ok_after: dict = {}
    killed_at: dict = {}
    with open(Path(data_dir) / "server.log", "w") as log:
        server = start_server(args.port, log)
        try:
            from bench.search_thumbs import log_in

            base = f"http://127.0.0.1:{args.port}"
            # Everyone is signed in before the clock starts, so every listener is browsing when the server dies.
            openers = [(log_in(base, name, PASSWORD)[0], station) for name, station, _ in listeners]
            until = time.monotonic() + args.seconds
            threads = [
                threading.Thread(target=browse, args=(base, opener, station, until, answers, first_ok_after, killed_at))
                for opener, station in openers
            ]
            for thread in threads:
                thread.start()
            time.sleep(min(3.0, args.seconds / 4))
            os.kill(postmaster_pid(data_dir), signal.SIGKILL)
            killed_at["at"] = time.monotonic()
            for thread in threads:
                thread.join()
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
    statuses = Counter(str(status) for status in answers)
    print(json.dumps({
        "users": args.users,
        "seconds": args.seconds,
        "answers": dict(statuses),
        "responses_500": statuses.get("500", 0),
        "last_non_200_after_kill_s": round(first_ok_after.get("seconds", 0.0), 2),
    }, indent=2))


if __name__ == "__main__":
    main()
