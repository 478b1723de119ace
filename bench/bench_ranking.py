"""How long one re-rank takes: `rank_candidates` on a station-sized input, with no database.

    .venv/bin/python bench/bench_ranking.py [--runs 50]

Prints the median and 95th percentile over the runs, in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ranking_inputs import station_sized_input  # noqa: E402
from discovery.engine.ranking import rank_candidates  # noqa: E402


def rank_timings(n: int = 500, m: int = 30, d: int = 200, runs: int = 50, seed: int = 0) -> list[float]:
    """Seconds of `rank_candidates` on `station_sized_input(n, m, d, seed)`, once per run."""
    request = station_sized_input(n, m, d, seed)
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        rank_candidates(request)
        timings.append(time.perf_counter() - start)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    timings = sorted(rank_timings(runs=args.runs))
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    print(
        f"rank_candidates, 500 candidates × 30 anchors × 200 dims: median {statistics.median(timings) * 1000:.2f} ms, "
        f"p95 {p95 * 1000:.2f} ms ({args.runs} runs)"
    )


if __name__ == "__main__":
    main()
