"""30-second preview-like clips cut from a folder of real music, shared by the benchmarks.

Each clip is AAC in an M4A container, 44.1 kHz stereo at 128 kb/s, like an iTunes preview, cut from 25% into
the source track. Clips are cached under var/bench/ so that repeated runs measure the same files.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "var" / "bench"
CLIP_SECONDS = 30.0


def corpus_tracks(corpus: Path, count: int, min_seconds: float = 40.0) -> list[Path]:
    """`count` music files of the corpus, spread over its packages, in a stable order."""
    manifest = corpus / "manifest.csv"
    if manifest.exists():
        with open(manifest, newline="") as handle:
            rows = [
                r for r in csv.DictReader(handle) if r["content"] == "music" and float(r["duration_s"]) >= min_seconds
            ]
        paths = [corpus / r["path"] for r in rows]
    else:
        paths = sorted(p for p in corpus.rglob("*") if p.suffix.lower() in {".ogg", ".opus", ".mp3", ".flac", ".wav"})
    paths = sorted(paths)
    if len(paths) < count:
        raise SystemExit(f"The corpus at {corpus} has {len(paths)} usable tracks; {count} were asked for.")
    step = len(paths) / count
    return [paths[int(i * step)] for i in range(count)]


def _read_excerpt(path: Path, start_s: float, seconds: float, rate: int = 44100) -> np.ndarray:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        container.seek(int(start_s / stream.time_base), stream=stream)
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=rate)
        chunks, have = [], 0
        for frame in container.decode(stream):
            if frame.pts is not None and frame.pts * stream.time_base < start_s - 0.05:
                continue
            for out in resampler.resample(frame):
                array = out.to_ndarray()
                chunks.append(array)
                have += array.shape[1]
            if have >= seconds * rate:
                break
    return np.concatenate(chunks, axis=1)[:, : int(seconds * rate)]


def write_m4a(samples: np.ndarray, path: Path, rate: int = 44100, bitrate: int = 128_000) -> Path:
    with av.open(str(path), "w", format="ipod") as container:
        stream = container.add_stream("aac", rate=rate)
        stream.layout, stream.bit_rate = "stereo", bitrate
        block = 1024 * 8
        for start in range(0, samples.shape[1], block):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(samples[:, start : start + block], dtype=np.float32),
                format="fltp",
                layout="stereo",
            )
            frame.sample_rate, frame.pts = rate, start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def preview_clips(corpus: Path, count: int) -> list[Path]:
    """`count` cached 30-s M4A clips from the corpus, made on first use."""
    CACHE.mkdir(parents=True, exist_ok=True)
    clips = []
    for source in corpus_tracks(corpus, count):
        name = hashlib.sha256(str(source.relative_to(corpus)).encode()).hexdigest()[:16]
        clip = CACHE / f"preview-{name}.m4a"
        if not clip.exists():
            with av.open(str(source)) as container:
                duration = float(container.duration or 0) / av.time_base
            start = max(0.0, min(0.25 * duration, duration - CLIP_SECONDS))
            write_m4a(_read_excerpt(source, start, CLIP_SECONDS), clip)
        clips.append(clip)
    return clips
