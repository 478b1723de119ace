"""The map at catalogue scale: projection build time and peak memory, payload size, and in headless Chromium the
time to first frame, the frame time while panning and the hover lookup.

    .venv/bin/python bench/bench_map.py [--tracks 16000 100000] [--skip-build] [--skip-browser]

No database: the vectors are bench/search_vectors.py's musicnn-like ones (real musicnn vectors from
tests/data/musicnn_sample.npy blurred by noise shaped like their covariance, as bench_search.py makes them).

  build    discovery/atlas/projection.py's fit (UMAP, cosine, fixed random_state, as build_map runs it) on N
           vectors, in a child process so that its peak resident memory is its own (ru_maxrss), plus the time
           to place 1,000 new tracks with the fitted model's transform
  payload  bytes of discovery/atlas/payload.py's encoding for N points, raw and gzipped
  browser  static/js/map.js with the vendored regl-scatterplot, served with the payload from a throwaway HTTP
           server on 127.0.0.1, in Debian's Chromium as the tests launch it (no GPU: WebGL runs on SwiftShader,
           software rendering on the CPU, so frame times here are a floor a real GPU beats by far):
             first_frame_ms   navigation start → the points drawn (page, libraries, payload, decode, first draw)
             pan_frame_ms     frame intervals (requestAnimationFrame) while the mouse drags the map
             hover_ms         mousemove over a point → the library's pointover (its spatial index lookup), and
                              → the tooltip shown (with the point's card fetched from the server)

Prints one JSON line per measurement, then a markdown table.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.search_vectors import MusicnnLike, corpus_vectors, real_sample  # noqa: E402
from discovery.atlas.payload import BYTES_PER_POINT, bounds_of, encode_points  # noqa: E402

SEED = 7
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]


def emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def vectors(count: int) -> np.ndarray:
    return corpus_vectors(count, MusicnnLike(real_sample(), 0.5), SEED)


def fit_child(count: int) -> None:
    """In the child: fit, transform 1,000 more, print the figures (peak memory measured by the parent)."""
    from discovery.atlas.projection import fit_umap

    data = vectors(count + 1000)
    started = time.perf_counter()
    reducer = fit_umap(data[:count])
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    reducer.transform(data[count:])
    print(json.dumps({"fit_s": fit_s, "transform_1000_s": time.perf_counter() - started}))


def build_figures(count: int) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--fit-child", str(count)], capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    wall = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    # ru_maxrss of children is the largest of any child so far: runs go smallest first, so it is this one's.
    return {"phase": "build", "tracks": count, **figures, "process_s": wall,
            "peak_rss_mb": max(peak_kb, before) / 1024}


def synthetic_map(count: int) -> tuple[np.ndarray, np.ndarray, bytes, dict]:
    """Points laid out like a map (clusters of many sizes), with album and tag indexes, encoded for the page."""
    rng = np.random.default_rng(SEED)
    centres = rng.normal(size=(200, 2)) * 10
    sizes = rng.pareto(1.2, size=200) + 1
    which = rng.choice(200, size=count, p=sizes / sizes.sum())
    xy = centres[which] + rng.normal(size=(count, 2)) * 0.6
    ids = np.arange(1, count + 1)
    bounds = bounds_of(xy)
    data = encode_points(ids, xy, which * 7 % 5000, which % 50, bounds)
    meta = {"model": "bench", "method": "umap", "points": count, "built": "2026-01-01T00:00:00+00:00",
            "bounds": list(bounds), "albums": [f"Album {i}" for i in range(5000)],
            "tags": [f"tag{i}" for i in range(50)]}
    return ids, xy, data, meta


PAGE = """<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/static/css/site.css">
<link rel="stylesheet" href="/static/css/map.css"></head><body><div id="csrf-token" data-token="x" hidden></div>
<section class="map-page card" id="map-root" data-points="/points.bin" data-meta="/meta.json"
 data-track-url="/tracks/0.json" data-locate="/locate.json" data-slider-url="/sliders/0.bin"
 data-station-url="/stations/0.json" data-station="" data-path-url="/path/"
 data-lib-regl="/static/vendor/regl/regl.min.js" data-lib-pubsub="/static/vendor/pub-sub-es/pub-sub-es.js"
 data-lib-scatterplot="/static/vendor/regl-scatterplot/regl-scatterplot.min.js">
<form class="map-tools" id="map-search"><input id="map-q"><select id="map-colour"><option value="album">a</option>
<option value="tag">t</option></select><select id="map-overlay-station"><option value="">none</option></select>
<button type="button" id="map-lasso">Lasso</button><button type="button" id="map-path-mode">Path</button></form>
<ul id="map-found"></ul><div class="map-stage" id="map-stage"><canvas id="map-canvas"></canvas>
<canvas id="map-overlay"></canvas><div id="map-tooltip" class="map-tooltip" hidden></div>
<p class="map-loading" id="map-loading">Drawing…</p></div><div id="map-legend"></div>
<form id="map-selection" class="map-selection" hidden><input id="map-selection-tracks">
<span id="map-selection-count"></span></form>
<div id="errors"></div><aside class="map-card" id="map-card" hidden></aside></section>
<script src="/static/js/map.js"></script></body></html>"""


def serve(data: bytes, meta: dict) -> ThreadingHTTPServer:
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(ROOT), **kwargs)

        def log_message(self, *args):
            pass

        def answer(self, body: bytes, kind: str):
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            path = self.path.split("?")[0]
            if path == "/map/":
                return self.answer(PAGE.encode(), "text/html; charset=utf-8")
            if path == "/points.bin":
                return self.answer(data, "application/octet-stream")
            if path == "/meta.json":
                return self.answer(json.dumps(meta).encode(), "application/json")
            if path.startswith("/tracks/"):
                pk = int(path.split("/")[-1].split(".")[0])
                card = {"id": pk, "title": f"Track {pk}", "artist": "Someone", "album": "", "tags": ["tag1"],
                        "src": "/none", "art": "/static/favicon.svg", "url": "#"}
                return self.answer(json.dumps(card).encode(), "application/json")
            return super().do_GET()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def browser_figures(browser, count: int, ids: np.ndarray, data: bytes, meta: dict) -> dict:
    server = serve(data, meta)
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"http://127.0.0.1:{server.server_port}/map/")
        page.wait_for_function(f"document.getElementById('map-root').dataset.drawn === '{count}'", timeout=120_000)
        first_frame = page.evaluate("performance.now()")
        in_script = page.evaluate("window.wavelengthMap.firstFrameMs")
        box = page.locator("#map-canvas").bounding_box()
        # Pan: drag across the map for about two seconds while requestAnimationFrame records frame times.
        page.evaluate("""() => { window.__frames = []; let last = performance.now();
          function tick(now) { window.__frames.push(now - last); last = now;
            if (window.__framesOn) requestAnimationFrame(tick); }
          window.__framesOn = true; requestAnimationFrame(tick); }""")
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(cx, cy)
        page.mouse.down()
        for k in range(60):
            page.mouse.move(cx + 200 * np.sin(k / 10), cy + 120 * np.cos(k / 10))
        page.mouse.up()
        frames = page.evaluate("() => { window.__framesOn = false; return window.__frames.slice(2); }")
        # Hover: the lookup (mousemove → pointover) and the tooltip (→ shown, with the card fetched).
        page.evaluate("""() => { const m = window.wavelengthMap; m.lookups = []; m.shown = [];
          document.getElementById('map-canvas')
            .addEventListener('mousemove', () => { m.movedAt = performance.now(); }, true);
          m.plot.subscribe('pointover', () => m.lookups.push(performance.now() - m.movedAt));
          new MutationObserver(() => { const t = document.getElementById('map-tooltip');
            if (!t.hidden) m.shown.push(performance.now() - m.movedAt); })
            .observe(document.getElementById('map-tooltip'), { attributes: true, childList: true }); }""")
        rng = np.random.default_rng(1)
        for pk in rng.choice(ids, size=30, replace=False):
            pos = page.evaluate(f"window.wavelengthMap.screenOf({int(pk)})")
            if not pos or not (0 < pos[0] < box["width"] and 0 < pos[1] < box["height"]):
                continue
            page.mouse.move(box["x"] + 2, box["y"] + 2)
            page.mouse.move(box["x"] + pos[0], box["y"] + pos[1])
            page.wait_for_timeout(150)
        lookups = page.evaluate("window.wavelengthMap.lookups")
        shown = page.evaluate("window.wavelengthMap.shown")
        page.close()
    finally:
        server.shutdown()

    lookups = [v for v in lookups if v is not None and np.isfinite(v)]
    shown = [v for v in shown if v is not None and np.isfinite(v)]

    def pct(values, q):
        return round(float(np.percentile(values, q)), 1) if values else None

    return {"phase": "browser", "tracks": count, "first_frame_ms": round(first_frame), "script_ms": round(in_script),
            "pan_frame_p50_ms": pct(frames, 50), "pan_frame_p95_ms": pct(frames, 95), "pan_frames": len(frames),
            "hover_lookup_p50_ms": pct(lookups, 50), "hover_lookup_p95_ms": pct(lookups, 95),
            "hover_tooltip_p50_ms": pct(shown, 50), "hovers": len(lookups)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, nargs="+", default=[16_000, 100_000])
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--fit-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fit_child:
        return fit_child(args.fit_child)
    rows = []
    counts = sorted(args.tracks)
    browser = playwright = None
    if not args.skip_browser:
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        for count in counts:
            row = {"tracks": count}
            ids, _, data, meta = synthetic_map(count)
            payload = {"phase": "payload", "tracks": count, "bytes": len(data),
                       "bytes_per_point": len(data) / count, "gzip_bytes": len(gzip.compress(data, 6)),
                       "meta_bytes": len(json.dumps(meta))}
            assert payload["bytes_per_point"] == BYTES_PER_POINT
            emit(payload)
            row.update(payload)
            if browser:
                figures = browser_figures(browser, count, ids, data, meta)
                emit(figures)
                row.update(figures)
            if not args.skip_build:
                figures = build_figures(count)
                emit(figures)
                row.update(figures)
            rows.append(row)
    finally:
        if browser:
            browser.close()
            playwright.stop()
    print("\n| tracks | payload | gzip | first frame | pan frame p50 / p95 | hover lookup p50 | UMAP fit | "
          "place 1,000 | peak memory |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['tracks']:,} | {r['bytes'] / 1e6:.2f} MB | {r['gzip_bytes'] / 1e6:.2f} MB | "
              f"{cell(r, 'first_frame_ms', unit=' ms')} | {cell(r, 'pan_frame_p50_ms', '{:.1f}')} / "
              f"{cell(r, 'pan_frame_p95_ms', '{:.1f}', ' ms')} | {cell(r, 'hover_lookup_p50_ms', '{:.1f}', ' ms')} | "
              f"{cell(r, 'fit_s', '{:.0f}', ' s')} | {cell(r, 'transform_1000_s', '{:.1f}', ' s')} | "
              f"{cell(r, 'peak_rss_mb', unit=' MB')} |")


def cell(row: dict, key: str, fmt: str = "{:.0f}", unit: str = "") -> str:
    return (fmt.format(row[key]) + unit) if row.get(key) is not None else "—"


if __name__ == "__main__":
    main()
