"""Reading audio files for the models: tags and length without decoding, and mono float32 at a model's rate.

Every failure is an AudioDecodeError whose message tells a curator what is wrong with the file and what to do,
so callers can store it in Track.error as it is. Decoding is bounded per track: a long file is sampled in a
few windows spread over its length instead of being decoded whole (see Windows).

No Django and no torch here: the ingest command, the embedding tasks and the benchmarks all share it.

This module is the whole interface (probe, decode, decode_many and what they return or raise) and the plan of a
decode; the work is in three modules beside it, one step each: audio_container.py opens the file and reads its
header and tags, audio_frames.py reads a span of samples, and audio_checks.py judges what came out.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tracks.audio_checks import check_content, truncation
from tracks.audio_container import (
    AudioDecodeError,
    audio_stream,
    check_file,
    header_duration,
    open_audio,
    read_tags,
    title_from_name,
    unexpected_error,
    year_from_tags,
)
from tracks.audio_frames import Mixer, Unseekable, read_span

# Callers import from here only; AudioDecodeError is defined in audio_container.py, where the failures start.
__all__ = [
    "DEFAULT_WINDOWS",
    "AudioDecodeError",
    "AudioInfo",
    "DecodedAudio",
    "Windows",
    "decode",
    "decode_many",
    "probe",
]


@dataclass(frozen=True)
class Windows:
    """Where to sample a long track: `count` windows of `seconds`, spread evenly from `first` to `last`.

    The default, six windows of 20 s between 10% and 90% of the track, decodes at most 120 s per track:
    - 20 s holds a whole phrase (eight bars at 96 BPM) and six of musicnn's 3-s patches, so each window is a
      fair sample of one section rather than a fragment.
    - Six windows spread over the track reach intro, verses, choruses and bridge of a typical song, and of
      long pieces (game scores, DJ mixes) sample every movement.
    - 10%–90% skips fade-ins, fade-outs, applause and hidden tracks after minutes of silence, which say
      little about how the music sounds.
    Tracks up to count·seconds / (last − first) = 150 s are decoded whole: below that the windows would
    overlap, so decoding everything costs at most a quarter more and hides nothing.
    """

    count: int = 6
    seconds: float = 20.0
    first: float = 0.10
    last: float = 0.90

    def __post_init__(self):
        if self.count < 1 or self.seconds <= 0 or not 0 <= self.first < self.last <= 1:
            raise ValueError("Windows need count >= 1, seconds > 0 and 0 <= first < last <= 1.")

    @property
    def whole_below_s(self) -> float:
        return self.count * self.seconds / (self.last - self.first)

    def spans(self, duration_s: float) -> list[tuple[float, float]] | None:
        """(start, end) in seconds of each window, or None when the whole track should be decoded."""
        if duration_s <= self.whole_below_s:
            return None
        first, last = self.first * duration_s, self.last * duration_s - self.seconds
        step = (last - first) / (self.count - 1) if self.count > 1 else 0.0
        return [(first + i * step, first + i * step + self.seconds) for i in range(self.count)]


DEFAULT_WINDOWS = Windows()


@dataclass
class AudioInfo:
    """What a file says about itself, read from its header and tags without decoding the audio."""

    duration_s: float | None  # None when the container does not say
    codec: str
    sample_rate: int
    channels: int
    title: str  # from the tags, else made from the file name
    artist: str = ""
    album: str = ""
    genre: str = ""
    year: int | None = None


@dataclass
class DecodedAudio:
    samples: np.ndarray  # (n,) float32, mono, in [-1, 1], at sample_rate
    sample_rate: int
    duration_s: float  # the whole file, however little of it was decoded
    spans: list[tuple[float, float]]  # (start, end) in seconds of the file that `samples` holds, in order
    warnings: list[str] = field(default_factory=list)  # problems worked around, in words for a curator

    @property
    def decoded_s(self) -> float:
        return len(self.samples) / self.sample_rate

    def segments(self) -> list[np.ndarray]:
        """`samples` cut at the joins between spans, for models that should not see across a join."""
        lengths = [round((end - start) * self.sample_rate) for start, end in self.spans]
        return np.split(self.samples, np.cumsum(lengths)[:-1])


def probe(path: str | Path) -> AudioInfo:
    """Length, format and tags of an audio file, without decoding it."""
    path = Path(path)
    check_file(path)
    try:
        with open_audio(path) as container:
            stream = audio_stream(container, path)
            tags = read_tags(container, stream)
            return AudioInfo(
                duration_s=header_duration(container, stream),
                codec=stream.codec_context.codec.canonical_name,
                sample_rate=stream.codec_context.sample_rate,
                channels=stream.codec_context.channels,
                title=tags.get("title") or title_from_name(path),
                artist=tags.get("artist") or tags.get("album_artist", ""),
                album=tags.get("album", ""),
                genre=tags.get("genre", ""),
                year=year_from_tags(tags),
            )
    except AudioDecodeError:
        raise
    except Exception as exc:
        raise unexpected_error(path, exc) from exc


def decode(
    path: str | Path,
    sample_rate: int,
    *,
    max_seconds: float | None = None,
    windows: Windows | None = DEFAULT_WINDOWS,
) -> DecodedAudio:
    """Mono float32 samples at `sample_rate`, averaged over the file's channels.

    - `max_seconds`: decode only the start of the file, up to this many seconds (windows are then ignored).
    - `windows`: how to sample a long file; None decodes the whole file however long it is.
    Problems that could be worked around (a truncated end, damaged packets, NaN samples) are listed in the
    result's `warnings`. Raises AudioDecodeError, and nothing else, for anything that is not usable audio:
    missing, empty, damaged beyond use, not audio, shorter than a second, or silent.
    """
    if sample_rate <= 0 or (max_seconds is not None and max_seconds <= 0):
        raise ValueError("sample_rate and max_seconds must be positive.")
    path = Path(path)
    check_file(path)
    try:
        try:
            with open_audio(path) as container:
                stream = audio_stream(container, path)
                return _decode_stream(container, stream, path, sample_rate, max_seconds, windows, seekable=True)
        except Unseekable:
            # Raw streams and some damaged files refuse to seek; a fresh read of the start is still bounded.
            with open_audio(path) as container:
                stream = audio_stream(container, path)
                return _decode_stream(container, stream, path, sample_rate, max_seconds, windows, seekable=False)
    except AudioDecodeError:
        raise
    except Exception as exc:
        raise unexpected_error(path, exc) from exc


def decode_many(
    paths: Iterable[str | Path],
    sample_rate: int,
    workers: int = 2,
    **options,
) -> Iterator[tuple[str | Path, DecodedAudio | AudioDecodeError]]:
    """decode() over many files in a thread pool, yielding (path, result or error) in the order given.

    PyAV demuxes, decodes and resamples without holding the GIL, so the threads overlap with each other and
    with the caller: while the caller embeds one clip (torch and NumPy release the GIL too), the next files
    decode. Each packet still takes the GIL briefly, so on two cores two decoding threads gain little over one.
    At most 2·workers files are in flight, so a long list does not fill memory with audio not yet consumed.
    """

    def attempt(path):
        try:
            return decode(path, sample_rate, **options)
        except AudioDecodeError as error:
            return error

    pending: deque[tuple[str | Path, Future]] = deque()
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="decode")
    try:
        for path in paths:
            pending.append((path, pool.submit(attempt, path)))
            if len(pending) >= 2 * max(1, workers):
                path, future = pending.popleft()
                yield path, future.result()
        while pending:
            path, future = pending.popleft()
            yield path, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _decode_stream(container, stream, path: Path, sample_rate, max_seconds, windows, seekable) -> DecodedAudio:
    header_s = header_duration(container, stream)
    plan = _plan(header_s if seekable else None, max_seconds, windows)
    mixer = Mixer(sample_rate)
    pieces: list[np.ndarray] = []
    spans: list[tuple[float, float]] = []
    warnings: list[str] = []
    reached_end = False
    for start, end in plan:
        samples, actual_start, at_end = read_span(container, stream, start, end, mixer)
        reached_end = reached_end or at_end
        if start > 0 and end is not None and len(samples) < 0.5 * (end - start) * sample_rate:
            warnings.append(
                f"The window at {start:.0f} s could not be read in full; the file ends sooner than its header says."
            )
        if len(samples):
            pieces.append(samples)
            spans.append((actual_start, actual_start + len(samples) / sample_rate))

    samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    decoded_s = len(samples) / sample_rate
    whole = len(plan) == 1 and plan[0][0] == 0.0 and reached_end
    if not reached_end and (header_s is None or not seekable):
        reason = "cannot be read from the middle" if header_s is not None else "does not state its length"
        warnings.append(f"The file {reason}, so only its first {decoded_s:.0f} s were used.")
    cut = truncation(path, container.format.name, header_s, decoded_s if whole else None)
    check_content(path.name, samples, mixer, cut)

    if cut:
        warnings.append(f"The file is truncated ({cut}); the audio before the cut was used.")
    # A cut-off file usually ends in half a packet; that is the truncation already reported, not damage.
    if mixer.damaged_packets > (1 if cut else 0):
        warnings.append(
            f"{mixer.damaged_packets} damaged packet(s) were skipped; the audio may click or drop out there."
        )
    if mixer.non_finite:
        warnings.append(f"{mixer.non_finite} invalid samples (NaN or infinite) were replaced with silence.")
    np.clip(samples, -1.0, 1.0, out=samples)
    duration_s = decoded_s if whole else (header_s if header_s is not None else decoded_s)
    return DecodedAudio(samples, sample_rate, duration_s, spans, warnings)


def _plan(header_s: float | None, max_seconds: float | None, windows: Windows | None):
    """(start, end) spans to decode; end None means to the end of the file."""
    if max_seconds is not None:
        return [(0.0, float(max_seconds))]
    if windows is None:
        return [(0.0, None)]
    if header_s is None:
        # Without a length there is nowhere to place windows; the start is the only bounded choice.
        return [(0.0, windows.whole_below_s)]
    return windows.spans(header_s) or [(0.0, None)]
