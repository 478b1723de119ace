"""Decode time per 30-s clip and end-to-end embedding throughput (decode included) per model.

    .venv/bin/python bench/bench_embedding.py --corpus DIR [--tracks 60] [--models musicnn spectral]

Every model runs in a fresh process, so its peak RSS is that of a worker that loaded only it. Figures are
medians over --repeats runs; docs/benchmarks.md records them with the command that produced them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus_clips import preview_clips  # noqa: E402
from tracks.audio import decode, decode_many  # noqa: E402

MUSICNN_GFLOP_PER_PATCH = 2 * 1.40  # 1.40 GMAC per 3-s patch (research note), 2 FLOP per MAC


def decode_figures(clips: list[Path], sample_rate: int, repeats: int) -> dict:
    per_clip = []
    for clip in clips:
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            decode(clip, sample_rate)
            runs.append(time.perf_counter() - start)
        per_clip.append(statistics.median(runs))
    parallel = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _path, result in decode_many(clips, sample_rate, workers=2):
            assert not isinstance(result, Exception), result
        parallel.append(time.perf_counter() - start)
    return {
        "decode_ms_per_clip_median": 1000 * statistics.median(per_clip),
        "decode_many_clips_per_s": len(clips) / statistics.median(parallel),
    }


# Variants beside the registry's names: the straight musicnn network without pruning, to relate the time to
# the arithmetic the unpruned network does (pruning skips most of it, so its "GFLOP/s" would flatter).
VARIANTS = {"musicnn-unpruned": ("musicnn", {"prune": False})}
MACHINE_PEAK_GFLOP_S = 2 * 2.6 * 64  # 2 cores × 2.6 GHz × (2 FMA pipes × 16 fp32 lanes × 2 FLOP), AVX-512


def run_model(model: str, clips: list[Path], device: str, batch_size: int, repeats: int) -> dict:
    """End to end, as the worker does it: decode a batch (2 threads), embed it, next batch."""
    import torch

    from embedding.base import load_embedder

    name, options = VARIANTS.get(model, (model, {}))
    start = time.perf_counter()
    embedder = load_embedder(name, device=device, **options)
    load_s = time.perf_counter() - start
    embedder.embed([decode(clips[0], embedder.sample_rate).samples])  # warm-up: first-call allocations

    totals, network = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        embed_s = 0.0
        for first in range(0, len(clips), batch_size):
            batch = clips[first : first + batch_size]
            waves = [r.samples for _, r in decode_many(batch, embedder.sample_rate, workers=2)]
            t0 = time.perf_counter()
            embedder.embed(waves)
            embed_s += time.perf_counter() - t0
        totals.append(time.perf_counter() - start)
        network.append(embed_s)
    figures = {
        "model": model,
        "device": device,
        "torch_threads": torch.get_num_threads(),
        "tracks": len(clips),
        "load_s": load_s,
        "tracks_per_s": len(clips) / statistics.median(totals),
        "tracks_per_s_network_only": len(clips) / statistics.median(network),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if name == "musicnn":
        patches = 10 * len(clips)  # a 30-s clip holds ten 3-s patches
        achieved = patches * MUSICNN_GFLOP_PER_PATCH / statistics.median(network)
        key = "network_gflop_per_s" if options.get("prune") is False else "unpruned_equivalent_gflop_per_s"
        figures[key] = achieved
        figures["share_of_machine_peak"] = achieved / MACHINE_PEAK_GFLOP_S
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=os.environ.get("WAVELENGTH_BENCH_CORPUS"))
    parser.add_argument("--tracks", type=int, default=60)
    parser.add_argument("--models", nargs="+", default=["musicnn", "musicnn-unpruned", "spectral"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one-model", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.corpus is None:
        print("bench_embedding: no corpus given (--corpus DIR or WAVELENGTH_BENCH_CORPUS); skipped.")
        return
    clips = preview_clips(args.corpus, args.tracks)

    if args.one_model:
        print(json.dumps(run_model(args.one_model, clips, args.device, args.batch_size, args.repeats)))
        return

    print(json.dumps({"decode_16k": decode_figures(clips[:20], 16000, args.repeats)}))
    for model in args.models:
        command = [sys.executable, __file__, "--corpus", str(args.corpus), "--tracks", str(args.tracks),
                   "--device", args.device, "--batch-size", str(args.batch_size), "--repeats", str(args.repeats),
                   "--one-model", model]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            print(json.dumps({"model": model, "error": result.stderr.strip().splitlines()[-1:]}))
            continue
        print(result.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
