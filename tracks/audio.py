"""Reading audio files for the models: tags and length without decoding, and mono float32 at a model's rate.

Every failure is an AudioDecodeError whose message tells a curator what is wrong with the file and what to do,
so callers can store it in Track.error as it is. Decoding is bounded per track: a long file is sampled in a
few windows spread over its length instead of being decoded whole (see Windows).

No Django and no torch here: the ingest command, the embedding tasks and the benchmarks all share it.

This module is the whole interface (probe, decode, decode_many and what they return or raise) and the plan of a
decode; the work is in the modules beside it, one step each: audio_container.py opens the file and reads its
header, audio_tags.py its tags, audio_frames.py reads a span of samples, and audio_checks.py judges what came out.

Every message names the file by `name`: the file as the person who added it knows it (its path in their folder,
or the name they uploaded it under), which is not always the name this server stores it under.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tracks.audio_checks import MIN_SECONDS, check_content, cut_short, ends_early, fit_to_full_scale, truncation
from tracks.audio_container import (
    AudioDecodeError,
    audio_end,
    audio_stream,
    check_file,
    header_duration,
    open_audio,
    unexpected_error,
)
from tracks.audio_frames import Mixer, Unseekable, read_span
from tracks.audio_tags import read_tags, title_from_name, year_from_tags

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


def probe(path: str | Path, name: str | None = None) -> AudioInfo:
    """Length, format and tags of an audio file, without decoding it.

    The length is the header's, unless the audio stops far sooner than the header says (a cut-off file, or a
    header that was never finished): then it is where the audio stops.
    """
    path = Path(path)
    name = name or path.name
    check_file(path, name)
    try:
        with open_audio(path, name) as container:
            stream = audio_stream(container, name)
            tags = read_tags(container, stream, path)
            duration_s = header_duration(container, stream)
            info = AudioInfo(
                duration_s=duration_s,
                codec=stream.codec_context.codec.canonical_name,
                sample_rate=stream.codec_context.sample_rate,
                channels=stream.codec_context.channels,
                title=tags.get("title") or title_from_name(path),
                artist=tags.get("artist") or tags.get("album_artist", ""),
                album=tags.get("album", ""),
                genre=tags.get("genre", ""),
                year=year_from_tags(tags),
            )
            if duration_s is not None:
                end_s = audio_end(container, stream, duration_s)
                if end_s is not None and ends_early(duration_s, end_s):
                    info.duration_s = end_s
            return info
    except AudioDecodeError:
        raise
    except Exception as exc:
        raise unexpected_error(name, exc) from exc


class _EndsEarly(Exception):
    """Windows placed by the header found no audio: the file holds less than its header says."""

    def __init__(self, header_s: float, end_s: float | None):
        super().__init__(header_s, end_s)
        self.header_s, self.end_s = header_s, end_s


@dataclass(frozen=True)
class _Attempt:
    seekable: bool = True
    header_s: float | None = None  # what the header promised, once it is known to promise too much ...
    end_s: float | None = None  # ... and where the audio really ends, where that could be found


def decode(
    path: str | Path,
    sample_rate: int,
    *,
    max_seconds: float | None = None,
    windows: Windows | None = DEFAULT_WINDOWS,
    name: str | None = None,
) -> DecodedAudio:
    """Mono float32 samples at `sample_rate`, averaged over the file's channels.

    - `max_seconds`: decode only the start of the file, up to this many seconds (windows are then ignored).
    - `windows`: how to sample a long file; None decodes the whole file however long it is.
    - `name`: the file as its owner knows it, for the messages (default: the file's own name).
    Problems that could be worked around (a truncated end, a header promising more than the file holds,
    damaged packets, NaN samples, samples beyond full scale) are listed in the result's `warnings`. Raises
    AudioDecodeError, and nothing else, for anything that is not usable audio: missing, empty, damaged beyond
    use, not audio, shorter than a second, or silent.
    """
    if sample_rate <= 0 or (max_seconds is not None and max_seconds <= 0):
        raise ValueError("sample_rate and max_seconds must be positive.")
    path = Path(path)
    name = name or path.name
    check_file(path, name)
    attempt = _Attempt()
    try:
        # At most three reads: as the header says; again where the audio really is; from the start.
        for _ in range(3):
            with open_audio(path, name) as container:
                stream = audio_stream(container, name)
                try:
                    return _decode_stream(container, stream, path, name, sample_rate, max_seconds, windows, attempt)
                except Unseekable:
                    # Raw streams and some damaged files refuse to seek; a fresh read of the start is still
                    # bounded.
                    attempt = _Attempt(seekable=False, header_s=attempt.header_s)
                except _EndsEarly as early:
                    attempt = _Attempt(early.end_s is not None, early.header_s, early.end_s)
        raise AssertionError("unreachable: the last attempt neither seeks nor places windows by the header")
    except AudioDecodeError:
        raise
    except Exception as exc:
        raise unexpected_error(name, exc) from exc


def decode_many(
    paths: Iterable[str | Path],
    sample_rate: int,
    workers: int = 2,
    names: Iterable[str | None] | None = None,
    **options,
) -> Iterator[tuple[str | Path, DecodedAudio | AudioDecodeError]]:
    """decode() over many files in a thread pool, yielding (path, result or error) in the order given.

    `names`, when given, runs beside `paths`: each file's name for its messages (see decode).
    PyAV demuxes, decodes and resamples without holding the GIL, so the threads overlap with each other and
    with the caller: while the caller embeds one clip (torch and NumPy release the GIL too), the next files
    decode. Each packet still takes the GIL briefly, so on two cores two decoding threads gain little over one.
    At most 2·workers files are in flight, so a long list does not fill memory with audio not yet consumed.
    """

    def attempt(path, name):
        try:
            return decode(path, sample_rate, name=name, **options)
        except AudioDecodeError as error:
            return error

    names = iter(names) if names is not None else None
    pending: deque[tuple[str | Path, Future]] = deque()
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="decode")
    try:
        for path in paths:
            pending.append((path, pool.submit(attempt, path, next(names, None) if names else None)))
            if len(pending) >= 2 * max(1, workers):
                path, future = pending.popleft()
                yield path, future.result()
        while pending:
            path, future = pending.popleft()
            yield path, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _decode_stream(
    container, stream, path: Path, name: str, sample_rate, max_seconds, windows, attempt: _Attempt
) -> DecodedAudio:
    seekable = attempt.seekable
    header_s = header_duration(container, stream)
    # Once the header is known to promise more than the file holds, windows go where the audio really is.
    length_s = attempt.end_s if attempt.end_s is not None else header_s
    plan = _plan(length_s if seekable else None, max_seconds, windows)
    mixer = Mixer(sample_rate)
    pieces: list[np.ndarray] = []
    spans: list[tuple[float, float]] = []
    warnings: list[str] = []
    reached_end = short_window = False
    for start, end in plan:
        samples, actual_start, at_end = read_span(container, stream, start, end, mixer)
        reached_end = reached_end or at_end
        if start > 0 and end is not None and len(samples) < 0.5 * (end - start) * sample_rate:
            if attempt.header_s is None and header_s is not None and not short_window:
                end_s = audio_end(container, stream, header_s)
                if end_s is not None and ends_early(header_s, end_s):
                    raise _EndsEarly(header_s, end_s)
            short_window = True
            warnings.append(
                f"The window at {start:.0f} s could not be read in full; the file ends sooner than its header says."
            )
        if len(samples):
            pieces.append(samples)
            spans.append((actual_start, actual_start + len(samples) / sample_rate))

    samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    decoded_s = len(samples) / sample_rate
    if short_window and attempt.header_s is None and decoded_s < MIN_SECONDS:
        # Where the audio ends could not be found, and the windows found too little: read the start instead.
        raise _EndsEarly(header_s, None)
    whole = len(plan) == 1 and plan[0][0] == 0.0 and reached_end
    if attempt.header_s is not None:
        holds_s = attempt.end_s if attempt.end_s is not None else (decoded_s if reached_end else None)
        cut = cut_short(attempt.header_s, holds_s)
    else:
        if not reached_end and (header_s is None or not seekable):
            reason = "cannot be read from the middle" if header_s is not None else "does not state its length"
            warnings.append(f"The file {reason}, so only its first {decoded_s:.0f} s were used.")
        cut = truncation(path, container.format.name, header_s, decoded_s if whole else None)
    over = fit_to_full_scale(samples)
    check_content(name, samples, mixer, cut)

    if attempt.header_s is not None:
        used = f"its first {decoded_s:.0f} s were" if not reached_end and not seekable else "that audio was"
        warnings.append(f"The file is cut short: {cut}; {used} used.")
    elif cut:
        warnings.append(f"The file is truncated ({cut}); the audio before the cut was used.")
    # A cut-off file usually ends in half a packet; that is the truncation already reported, not damage.
    if mixer.damaged_packets > (1 if cut else 0):
        warnings.append(
            f"{mixer.damaged_packets} damaged packet(s) were skipped; the audio may click or drop out there."
        )
    if mixer.non_finite:
        warnings.append(f"{mixer.non_finite} invalid samples (NaN or infinite) were replaced with silence.")
    if over:
        warnings.append(over)
    if whole:
        duration_s = decoded_s
    elif attempt.end_s is not None:
        duration_s = attempt.end_s
    else:
        duration_s = header_s if header_s is not None and attempt.header_s is None else decoded_s
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
