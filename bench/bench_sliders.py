"""Sliders: refit after one new rating, the gate, ranking a catalogue, the rate-more queue, and ratings to light.

    .venv/bin/python bench/bench_sliders.py [--ratings 50 500 5000] [--catalogue 16000] [--dim 200]
        [--repeats 40] [--gate-repeats 3] [--vectors tests/data/musicnn_sample.npy] [--blas-threads 1]

Timings use synthetic unit vectors shaped like musicnn's (a shared direction, a dozen clusters in a 40-d subspace
with a decaying spectrum, a little noise) and ratings that follow a hidden direction with noise:

  refit    fit_slider on n ratings, then again after each of --repeats new ratings (n, n+1, ...): what a rating
           costs before the page can show the slider's new ranking
  gate     slider_skill on the same ratings (one fit plus one per shuffle), --gate-repeats times
  rank     predict over a --catalogue × --dim float32 catalogue, and top_by_slider(count=50) on it
  queue    rate_more_queue over the catalogue, with a model and without (farthest-point sampling)

With --vectors (real embeddings; by default the test sample when present) it also reports how often the gate
lights, over 20 trials per count, for ratings along a hidden direction ("sounds like a, not b", Gaussian noise
of half a standard deviation) and for random ratings. Figures are milliseconds, median and 95th percentile.

--blas-threads (default 1) runs the measurements in a fresh process with OPENBLAS_NUM_THREADS and
OMP_NUM_THREADS set to it, since OpenBLAS reads them only when it loads; 0 keeps the library's default (a
thread per core). The matrices here are small (d × d at most, d = 200), and threads that wait for a busy core
cost more than they gain: on two cores beside a database building an index, the default made the median refit
at 500 ratings 66 ms against 4 ms with one thread.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from taste.sliders.learning import fit_slider, predict, slider_skill, top_by_slider  # noqa: E402
from taste.sliders.queue import rate_more_queue  # noqa: E402

DEFAULT_VECTORS = ROOT / "tests" / "data" / "musicnn_sample.npy"
LIGHT_COUNTS = (8, 12, 16, 24, 40, 80)
LIGHT_TRIALS = 20


def synthetic_vectors(count: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rank = min(40, dim)
    mean = rng.normal(size=dim)
    mean *= 0.7 / np.linalg.norm(mean)
    basis = np.linalg.qr(rng.normal(size=(dim, rank)))[0]
    scales = 0.3 * np.arange(1, rank + 1) ** -0.7
    clusters = rng.normal(size=(12, rank)) * scales
    vectors = np.empty((count, dim))
    for start in range(0, count, 65_536):
        rows = min(65_536, count - start)
        latent = clusters[rng.integers(0, 12, rows)] + rng.normal(size=(rows, rank)) * scales
        vectors[start : start + rows] = mean + latent @ basis.T + 0.01 * rng.normal(size=(rows, dim))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def hidden_direction_ratings(vectors: np.ndarray, rng: np.random.Generator, noise: float = 0.5) -> np.ndarray:
    a, b = rng.choice(len(vectors), 2, replace=False)
    scores = vectors @ (vectors[a] - vectors[b])
    standard = (scores - scores.mean()) / scores.std()
    return np.clip(np.round(3 + 1.2 * (standard + noise * rng.normal(size=len(scores)))), 1, 5)


def timed(function, repeats: int) -> list[float]:
    runs = []
    for index in range(repeats):
        start = time.perf_counter()
        function(index)
        runs.append(1000 * (time.perf_counter() - start))
    return runs


def summary(name: str, runs: list[float], **extra) -> dict:
    return {
        "measure": name,
        **extra,
        "runs": len(runs),
        "p50_ms": statistics.median(runs),
        "p95_ms": float(np.quantile(runs, 0.95)),
    }


def refit_and_gate(vectors: np.ndarray, ratings: np.ndarray, count: int, repeats: int, gate_repeats: int):
    fit_slider(vectors[:count], ratings[:count])
    refit = timed(lambda i: fit_slider(vectors[: count + i], ratings[: count + i]), repeats)
    gate = timed(lambda i: slider_skill(vectors[:count], ratings[:count]), gate_repeats)
    return summary("refit", refit, ratings=count), summary("gate", gate, ratings=count)


def ranking_and_queue(catalogue: np.ndarray, model, repeats: int) -> list[dict]:
    ids = np.arange(len(catalogue))
    rated = ids[:50]
    predict(model, catalogue)
    return [
        summary("rank: predict", timed(lambda i: predict(model, catalogue), repeats), tracks=len(catalogue)),
        summary(
            "rank: top 50",
            timed(lambda i: top_by_slider(model, catalogue, ids, count=50), repeats),
            tracks=len(catalogue),
        ),
        summary(
            "queue: with a model",
            timed(lambda i: rate_more_queue(model, catalogue, ids, rated), max(3, repeats // 4)),
            tracks=len(catalogue),
        ),
        summary(
            "queue: no model yet",
            timed(lambda i: rate_more_queue(None, catalogue, ids, rated), max(3, repeats // 4)),
            tracks=len(catalogue),
        ),
    ]


def lighting(vectors: np.ndarray) -> list[dict]:
    rows = []
    for count in LIGHT_COUNTS:
        if count > len(vectors) // 2:
            break
        lit_hidden = lit_random = 0
        for trial in range(LIGHT_TRIALS):
            rng = np.random.default_rng(trial)
            rated = rng.choice(len(vectors), count, replace=False)
            lit_hidden += slider_skill(vectors[rated], hidden_direction_ratings(vectors, rng)[rated]).lit
            lit_random += slider_skill(vectors[rated], rng.integers(1, 6, size=count)).lit
        rows.append({
            "measure": "lit share",
            "ratings": count,
            "hidden_direction": lit_hidden / LIGHT_TRIALS,
            "random": lit_random / LIGHT_TRIALS,
            "trials": LIGHT_TRIALS,
        })
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ratings", type=int, nargs="+", default=[50, 500, 5000])
    parser.add_argument("--catalogue", type=int, default=16_000)
    parser.add_argument("--dim", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--gate-repeats", type=int, default=3)
    parser.add_argument("--vectors", type=Path, default=DEFAULT_VECTORS if DEFAULT_VECTORS.exists() else None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--blas-threads", type=int, default=1)
    args = parser.parse_args()
    threads = str(args.blas_threads)
    if args.blas_threads > 0 and os.environ.get("OPENBLAS_NUM_THREADS") != threads:
        child_environment = {**os.environ, "OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads}
        sys.exit(subprocess.run([sys.executable, __file__, *sys.argv[1:]], env=child_environment).returncode)

    environment = {
        "cpus": os.cpu_count(),
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or "default",
        "dim": args.dim,
    }
    print(json.dumps({"environment": environment}))
    rng = np.random.default_rng(args.seed)
    most = max(args.ratings) + args.repeats
    rated_vectors = synthetic_vectors(most, args.dim, args.seed)
    ratings = hidden_direction_ratings(rated_vectors, rng)
    rows = []
    for count in args.ratings:
        rows.extend(refit_and_gate(rated_vectors, ratings, count, args.repeats, args.gate_repeats))
        for row in rows[-2:]:
            print(json.dumps(row))

    catalogue = synthetic_vectors(args.catalogue, args.dim, args.seed + 1).astype(np.float32)
    model = fit_slider(rated_vectors[:500], ratings[:500])
    for row in ranking_and_queue(catalogue, model, args.repeats):
        rows.append(row)
        print(json.dumps(row))

    print()
    print(f"{environment['cpus']} CPUs, BLAS threads: {environment['blas_threads']}, d = {args.dim}")
    print("| measure | ratings / tracks | p50 ms | p95 ms |")
    print("|---|---:|---:|---:|")
    for row in rows:
        size = row.get("ratings", row.get("tracks"))
        print(f"| {row['measure']} | {size} | {row['p50_ms']:.2f} | {row['p95_ms']:.2f} |")

    if args.vectors is not None:
        vectors = np.load(args.vectors).astype(np.float64)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        shares = lighting(vectors)
        print()
        for row in shares:
            print(json.dumps(row))
        print(f"Gate on {args.vectors.name} ({len(vectors)} × {vectors.shape[1]}): share of {LIGHT_TRIALS} trials lit")
        print("| ratings | along a hidden direction | random ratings |")
        print("|---:|---:|---:|")
        for row in shares:
            print(f"| {row['ratings']} | {row['hidden_direction']:.2f} | {row['random']:.2f} |")


if __name__ == "__main__":
    main()
