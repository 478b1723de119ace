"""The station page in Chromium: how fast a thumb re-ranks the list, and how heavy the page is.

    .venv/bin/python bench/bench_radio.py [--clicks 30] [--tracks 250] [--runs 1]

Starts the site as `make run` serves it (collectstatic, then gunicorn with gunicorn.conf.py) on a database and a
static folder of its own, with a catalogue of --tracks embedded tracks and a station of three seeds showing 20
results. A headless Chromium signs in, opens the station, and thumbs the third result --clicks times (alternately
up and down). Each latency runs from the click (captured before any handler): `p50_ms`/`p95_ms` to the end of
htmx's settle of the new list (the first afterSettle listener, which runs before the page's own), and
`handled_p50_ms`/`handled_p95_ms` to after the page's own afterSettle handlers ran too (re-rank badges, focus,
the player's queue): what a listener waits for. Also reported: the station page's HTML bytes and DOM element
count, and the median time to the server's answer (the rest is the swap and the page's handlers). Each run
starts from the station without thumbs. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_load import PASSWORD, percentile, prepare, private_data_dir, start_server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage", "--disable-gpu"]

# Installed before the page's scripts: the click's time is taken in the capture phase, ahead of htmx.
TIMING_SCRIPT = """
window.__latencies = [];
window.__answered = [];
document.addEventListener("click", () => { window.__clicked = performance.now(); }, true);
document.addEventListener("htmx:beforeSwap", () => {
  if (window.__clicked) window.__answered.push(performance.now() - window.__clicked);
});
window.__handled = [];
document.addEventListener("htmx:afterSettle", (event) => {
  if (window.__clicked && document.getElementById("station-live")) {
    const clicked = window.__clicked;
    window.__latencies.push(performance.now() - clicked);
    window.__clicked = 0;
    // This listener runs before the page's own (it was added first); a microtask runs once htmx's whole swap
    // returned, after every afterSettle listener of the page (badges, focus, the player's queue).
    queueMicrotask(() => window.__handled.push(performance.now() - clicked));
  }
});
"""


def add_seeds(station_id: int, count: int) -> None:
    from taste.stations.models import Station
    from taste.stations.recommendations import recommendations
    from taste.stations.services import add_seed

    station = Station.objects.get(pk=station_id)
    for rec in recommendations(station)[:count]:
        add_seed(station, rec.track.pk)


def clear_thumbs(station_id: int) -> None:
    from django.db import connection

    from taste.stations.models import Thumb

    Thumb.objects.filter(station_id=station_id).delete()
    connection.close()


def measure(base: str, station: int, clicks: int) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900}).new_page()
        page.set_default_timeout(60_000)
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill("load-0")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_selector(".username", state="attached")
        page.add_init_script(TIMING_SCRIPT)
        response = page.goto(f"/stations/{station}/")
        page_bytes = len(response.body())
        page.wait_for_selector("#results .result")
        dom_elements = page.evaluate("document.getElementsByTagName('*').length")
        results = page.locator("#results .result").count()
        for index in range(clicks):
            name = "More like" if index % 2 == 0 else "Not "
            done = page.evaluate("window.__latencies.length")
            page.locator("#results .result").nth(2).get_by_role("button", name=name).click()
            page.wait_for_function(f"window.__handled.length > {done}")
            page.wait_for_function("!document.querySelector('.htmx-request')")
        latencies = page.evaluate("window.__latencies")
        answered = page.evaluate("window.__answered")
        handled = page.evaluate("window.__handled")
        browser.close()
    return {"page_bytes": page_bytes, "dom_elements": dom_elements, "results": results, "latencies_ms": latencies,
            "answered_ms": answered, "handled_ms": handled}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=30)
    parser.add_argument("--tracks", type=int, default=250)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--port", type=int, default=8733)
    args = parser.parse_args()

    data_dir = private_data_dir("wavelength-radio-")
    # The page's scripts and styles as they are now, hashed and compressed as `make run` serves them (it runs
    # collectstatic first), in a folder of this run's own: not whatever the checkout's staticfiles/ last held.
    os.environ["STATIC_ROOT"] = str(Path(data_dir) / "static")
    ((_, station, _),) = prepare(1, args.tracks)
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    add_seeds(station, 2)
    runs = []
    with open(Path(data_dir) / "server.log", "w") as log:
        server = start_server(args.port, log)
        try:
            for _ in range(args.runs):
                clear_thumbs(station)  # every run starts from the same station
                runs.append(measure(f"http://127.0.0.1:{args.port}", station, args.clicks))
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
    report = []
    for run in runs:
        latencies, answered, handled = run.pop("latencies_ms"), run.pop("answered_ms"), run.pop("handled_ms")
        report.append({**run, "clicks": len(latencies), "p50_ms": round(statistics.median(latencies), 1),
                       "p95_ms": round(percentile(latencies, 0.95), 1), "max_ms": round(max(latencies), 1),
                       "answer_p50_ms": round(statistics.median(answered), 1),
                       "handled_p50_ms": round(statistics.median(handled), 1),
                       "handled_p95_ms": round(percentile(handled, 0.95), 1)})
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
