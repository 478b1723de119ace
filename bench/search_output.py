"""What the search benchmark prints and how it stops, shared by its parts: a JSON line per figure, latency
percentiles, and a refusal on stderr that ends the run."""

from __future__ import annotations

import json
import sys

import numpy as np


def percentiles(seconds: list[float]) -> dict:
    ms = 1000 * np.asarray(seconds)
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)), "n": len(ms)}


def emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def refuse(message: str) -> None:
    print(f"bench_search: {message}", file=sys.stderr)
    sys.exit(1)
