"""The search benchmark's thumb phase: a station of seeds and likes, recommendations() and its index queries
timed in this process, then POST /stations/<id>/thumbs/ timed by a client against one gunicorn worker."""

from __future__ import annotations

import http.cookiejar
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

from bench.search_output import percentiles, refuse

ROOT = Path(__file__).resolve().parent.parent
SEEDS, LIKES, TOGGLED = 10, 20, 10
BENCH_USER = "bench-search"


def thumb_figures(model, corpus: np.ndarray, track_ids: np.ndarray, rng, thumbs: int, warmup: int) -> dict:
    from django.contrib.auth import get_user_model

    from discovery.engine.candidates import ANCHOR_CANDIDATES, THROUGHLINE_CANDIDATES, THROUGHLINE_EF_SEARCH
    from discovery.engine.ranking import throughline_vector
    from embedding import samples
    from embedding.vector_index import forget_cached_vectors, nearest_neighbours_many
    from taste.stations.recommendations import recommendations
    from taste.stations.services import create_station, set_thumb

    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER)
    password = secrets.token_urlsafe(18)
    user.set_password(password)
    user.save()
    user.stations.all().delete()
    rows = rng.choice(len(track_ids), size=SEEDS + LIKES + TOGGLED, replace=False)
    ids = track_ids[rows].tolist()
    seeds, likes, toggled = ids[:SEEDS], ids[SEEDS : SEEDS + LIKES], ids[SEEDS + LIKES :]
    station = create_station(user, seeds, "Benchmark station")
    for track_id in likes:
        set_thumb(station, track_id, "up")

    figures = {"anchors": SEEDS + LIKES, "in_process": {}}
    throughline = throughline_vector(corpus[rows[:SEEDS]])
    anchors = corpus[rows[: SEEDS + LIKES]]

    def uncached_recommendations():
        # What a station pays when none of its neighbourhoods or vectors are in this process's caches yet.
        forget_cached_vectors()
        return recommendations(station)

    def corpus_sample_refresh():
        # The sample is cached per process for minutes; one request in that many pays for drawing it again.
        samples._corpus_samples.clear()
        return samples.corpus_sample(model)

    # (step, runs, of which warm-up): the refresh reads the whole table, so it gets fewer runs.
    steps = {
        "recommendations": (lambda: recommendations(station), warmup + 30, warmup),
        "recommendations_uncached": (uncached_recommendations, warmup + 30, warmup),
        "corpus_sample_refresh": (corpus_sample_refresh, 12, 2),
        "throughline_candidates": (
            lambda: nearest_neighbours_many(
                model, throughline, limit=THROUGHLINE_CANDIDATES, ef_search=THROUGHLINE_EF_SEARCH
            ),
            warmup + 30,
            warmup,
        ),
        "anchor_candidates": (
            lambda: nearest_neighbours_many(model, anchors, limit=ANCHOR_CANDIDATES), warmup + 30, warmup
        ),
    }
    for name, (step, runs, skipped) in steps.items():
        seconds = []
        for run in range(runs):
            start = time.perf_counter()
            step()
            if run >= skipped:
                seconds.append(time.perf_counter() - start)
        figures["in_process"][name] = percentiles(seconds)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.NamedTemporaryFile(prefix="bench-search-server-", suffix=".log") as log:
        server = start_server(port, log)
        try:
            opener, csrf = log_in(base, BENCH_USER, password)
            url = f"{base}/stations/{station.pk}/thumbs/"
            seconds = []
            # Up then clear on the same track keeps the station at 30-31 anchors for any number of requests.
            for i in range(warmup + thumbs):
                value = "up" if i % 2 == 0 else "clear"
                data = urllib.parse.urlencode({"track": toggled[(i // 2) % len(toggled)], "value": value}).encode()
                request = urllib.request.Request(url, data, headers={"HX-Request": "true", "X-CSRFToken": csrf})
                start = time.perf_counter()
                try:
                    with opener.open(request, timeout=60) as response:
                        body = response.read()
                except urllib.error.HTTPError as error:
                    body = b""
                    response = error
                elapsed = time.perf_counter() - start
                if response.status != 200 or b'id="station-live"' not in body:
                    refuse(
                        f"a thumb got HTTP {response.status}, not the station partial; the server said:\n"
                        + server_output(log)
                    )
                if i >= warmup:
                    seconds.append(elapsed)
        finally:
            stop_server(server)
    figures["http"] = {
        "server": "gunicorn, 1 sync worker", "timed": "client round trip on 127.0.0.1", "warmup": warmup,
        **percentiles(seconds),
    }
    user.stations.all().delete()
    return figures


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, log) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "discovery.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
               "--timeout", "120"]
    server = subprocess.Popen(command, cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
    stop_server(server)
    refuse("the web server did not come up; its output:\n" + server_output(log))


def server_output(log) -> str:
    # Read through a second handle: seeking the server's own would move where it writes next.
    return Path(log.name).read_text(errors="replace")[-3000:]


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)  # gunicorn stops its worker gracefully on SIGTERM
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def log_in(base: str, username: str, password: str):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _KeepRedirects)
    with opener.open(f"{base}/accounts/login/", timeout=30) as response:
        form = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token, "next": "/"}
    ).encode()
    try:
        opener.open(f"{base}/accounts/login/", data, timeout=30)
        refuse("logging in did not redirect; the password was not accepted.")
    except urllib.error.HTTPError as error:
        if error.code != 302 or "/accounts/login/" in error.headers.get("Location", ""):
            refuse(f"logging in failed with HTTP {error.code}.")
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    return opener, csrf


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None
