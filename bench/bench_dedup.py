"""Choosing the near-duplicate threshold: re-encoded copies of real tracks against distinct tracks.

    .venv/bin/python bench/bench_dedup.py --corpus DIR [--tracks 80] [--model musicnn]

For each of --tracks 30-s clips it makes four copies a re-release or a second upload would produce: another
codec and bitrate (MP3, 96 kb/s), -6 dB, 0.5 s trimmed from the start, and resampled to 22.05 kHz. Positives
are (clip, its copy); negatives are every pair of distinct clips. For each cosine threshold it prints
precision and recall of "cosine >= threshold means the same recording", and the distinct pairs that come
closest, since a corpus may hold real duplicates under two names.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus_clips import CACHE, corpus_tracks, preview_clips, write_m4a  # noqa: E402
from tracks.audio import decode  # noqa: E402

VARIANTS = ["mp3_96k", "minus_6db", "trim_0.5s", "resample_22k"]


def _stereo(path: Path, rate: int = 44100) -> np.ndarray:
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=rate)
        chunks = [out.to_ndarray() for frame in container.decode(audio=0) for out in resampler.resample(frame)]
    return np.concatenate(chunks, axis=1)


def _write_mp3(samples: np.ndarray, path: Path, rate: int, bitrate: int) -> Path:
    with av.open(str(path), "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=rate)
        stream.layout, stream.bit_rate = "stereo", bitrate
        for start in range(0, samples.shape[1], 1152 * 8):
            block = np.ascontiguousarray(samples[:, start : start + 1152 * 8], dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = rate, start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def make_variants(clip: Path) -> dict[str, Path]:
    out = CACHE / "variants"
    out.mkdir(parents=True, exist_ok=True)
    paths = {v: out / f"{clip.stem}.{v}{'.mp3' if v == 'mp3_96k' else '.m4a'}" for v in VARIANTS}
    if all(p.exists() for p in paths.values()):
        return paths
    samples = _stereo(clip)
    _write_mp3(samples, paths["mp3_96k"], 44100, 96_000)
    write_m4a(samples * 10 ** (-6 / 20), paths["minus_6db"])
    write_m4a(samples[:, int(0.5 * 44100) :], paths["trim_0.5s"])
    write_m4a(_stereo(clip, rate=22050), paths["resample_22k"], rate=22050, bitrate=96_000)
    return paths


def _duration(path: Path) -> float:
    with av.open(str(path)) as container:
        return float(container.duration or 0) / av.time_base


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=os.environ.get("WAVELENGTH_BENCH_CORPUS"))
    parser.add_argument("--tracks", type=int, default=80)
    parser.add_argument("--model", default="musicnn")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--as-decoded", action="store_true", help="musicnn: keep each clip's decoded level (no level setting)"
    )
    args = parser.parse_args()
    if args.corpus is None:
        print("bench_dedup: no corpus given (--corpus DIR or WAVELENGTH_BENCH_CORPUS); skipped.")
        return

    # A model trained here (wavelength-*) finds its checkpoint under the data directory (WAVELENGTH_DATA).
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "discovery.settings")
    import django

    django.setup()
    from embedding.base import load_embedder

    options = {"input_level_dbfs": None} if args.as_decoded else {}
    embedder = load_embedder(args.model, device=args.device, **options)
    clips = preview_clips(args.corpus, args.tracks)
    sources = corpus_tracks(args.corpus, args.tracks)
    files = [clip for clip in clips] + [p for clip in clips for p in make_variants(clip).values()]
    waves = [decode(path, embedder.sample_rate).samples for path in files]
    vectors = np.concatenate([embedder.embed(waves[i : i + 32]).vectors for i in range(0, len(waves), 32)])
    originals = vectors[: len(clips)]
    copies = vectors[len(clips) :].reshape(len(clips), len(VARIANTS), -1)

    positives = np.einsum("nd,nvd->nv", originals, copies)  # (clip, variant) cosine
    gram = originals @ originals.T
    pairs = list(itertools.combinations(range(len(clips)), 2))
    negatives = np.array([gram[i, j] for i, j in pairs])
    # The product also asks for durations within max(2 s, 2%): the full lengths of the source tracks.
    durations = [_duration(source) for source in sources]
    tolerance_s, tolerance_fraction = 2.0, 0.02
    close_length = np.array([
        abs(durations[i] - durations[j]) <= max(tolerance_s, tolerance_fraction * max(durations[i], durations[j]))
        for i, j in pairs
    ])

    print(json.dumps({
        "model": args.model, "level": embedder.settings.get("input_level", "as decoded"), "clips": len(clips),
        "positives": int(positives.size), "negatives": len(pairs),
        "positive_cosine_min_by_variant": {v: float(positives[:, k].min()) for k, v in enumerate(VARIANTS)},
        "positive_cosine_median_by_variant": {v: float(np.median(positives[:, k])) for k, v in enumerate(VARIANTS)},
        "negative_cosine_max": float(negatives.max()),
        "negative_cosine_p999": float(np.quantile(negatives, 0.999)),
    }))
    print("| threshold | recall | precision (cosine alone) | false pairs | precision (with durations) | false pairs |")
    print("|---:|---:|---:|---:|---:|---:|")
    for threshold in [0.90, 0.93, 0.95, 0.96, 0.97, 0.98, 0.985, 0.99, 0.995, 0.998]:
        tp = int((positives >= threshold).sum())
        fp = int((negatives >= threshold).sum())
        fp_gated = int(((negatives >= threshold) & close_length).sum())
        precision = tp / (tp + fp) if tp + fp else 1.0
        gated = tp / (tp + fp_gated) if tp + fp_gated else 1.0
        print(f"| {threshold} | {tp / positives.size:.4f} | {precision:.4f} | {fp} | {gated:.4f} | {fp_gated} |")
    closest = np.argsort(-negatives)[:5]
    print("closest distinct pairs:")
    for index in closest:
        i, j = pairs[index]
        print(f"  {negatives[index]:.4f}  {sources[i].relative_to(args.corpus)}  {sources[j].relative_to(args.corpus)}")


if __name__ == "__main__":
    main()
