"""Reading audio files for the models: tags and length without decoding, and mono float32 at a model's rate.

Every failure is an AudioDecodeError whose message tells a curator what is wrong with the file and what to do,
so callers can store it in Track.error as it is. Decoding is bounded per track: a long file is sampled in a
few windows spread over its length instead of being decoded whole (see Windows).

No Django and no torch here: the ingest command, the embedding tasks and the benchmarks all share it.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

MIN_SECONDS = 1.0
SILENCE_DBFS = -70.0
# Decoding starts this long before a window and the lead-in is thrown away: Opus needs 80 ms of pre-roll,
# MP3's bit reservoir reaches a few frames back, Vorbis and AAC overlap-add with the previous block, and the
# resampler's filter starts from silence. Half a second covers all of them.
SEEK_PREROLL_S = 0.5
# A decoded length this much shorter than the header's means the file is cut off, not a rounding difference
# (MP3 headers without a VBR table estimate their length, so the margin is generous).
TRUNCATION_MARGIN = 0.03
MAX_DAMAGED_PACKETS = 200
# Output frames of this many samples: the NumPy work per frame costs the same for 1,024 samples as for 8,192,
# and it holds the GIL that decode_many needs free.
MIX_BLOCK = 8192
# FFmpeg demuxers that turn any bytes into pictures of text (ANSI art, binary text); they claim files by
# extension, so a .txt or .bin handed in by mistake opens as "video".
TEXT_FORMATS = {"tty", "bin", "xbin", "idf", "adf"}


class AudioDecodeError(Exception):
    """The file cannot be used as audio; the message is a sentence a curator can act on."""


class _Unseekable(Exception):
    pass


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
    _check_file(path)
    try:
        with _open(path) as container:
            stream = _audio_stream(container, path)
            tags = _tags(container, stream)
            return AudioInfo(
                duration_s=_header_duration(container, stream),
                codec=stream.codec_context.codec.canonical_name,
                sample_rate=stream.codec_context.sample_rate,
                channels=stream.codec_context.channels,
                title=tags.get("title") or _title_from_name(path),
                artist=tags.get("artist") or tags.get("album_artist", ""),
                album=tags.get("album", ""),
                genre=tags.get("genre", ""),
                year=_year(tags),
            )
    except AudioDecodeError:
        raise
    except Exception as exc:
        raise _unexpected(path, exc) from exc


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
    _check_file(path)
    try:
        try:
            with _open(path) as container:
                stream = _audio_stream(container, path)
                return _decode_stream(container, stream, path, sample_rate, max_seconds, windows, seekable=True)
        except _Unseekable:
            # Raw streams and some damaged files refuse to seek; a fresh read of the start is still bounded.
            with _open(path) as container:
                stream = _audio_stream(container, path)
                return _decode_stream(container, stream, path, sample_rate, max_seconds, windows, seekable=False)
    except AudioDecodeError:
        raise
    except Exception as exc:
        raise _unexpected(path, exc) from exc


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
    header_s = _header_duration(container, stream)
    plan = _plan(header_s if seekable else None, max_seconds, windows)
    mixer = _Mixer(sample_rate)
    pieces: list[np.ndarray] = []
    spans: list[tuple[float, float]] = []
    warnings: list[str] = []
    reached_end = False
    for start, end in plan:
        samples, actual_start, at_end = _read_span(container, stream, start, end, mixer)
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
    cut = _truncation(path, container.format.name, header_s, decoded_s if whole else None)
    _check_content(path.name, samples, mixer, cut)

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


def _check_content(name: str, samples: np.ndarray, mixer: _Mixer, cut: str | None):
    """Raise if what was decoded cannot stand for the file: nothing, too little, invalid or silent."""
    decoded_s = len(samples) / mixer.rate
    if decoded_s < MIN_SECONDS and cut:
        raise AudioDecodeError(
            f"“{name}” is truncated ({cut}), and the {decoded_s:.2f} s that can be decoded are too little to "
            "analyse. Replace it with a complete copy."
        )
    if decoded_s < MIN_SECONDS and mixer.damaged_packets:
        raise AudioDecodeError(
            f"“{name}” is damaged: only {decoded_s:.2f} s of it could be decoded ({mixer.damaged_packets} "
            "unreadable packets). Replace it with a working copy."
        )
    if len(samples) == 0:
        raise AudioDecodeError(
            f"“{name}” has an audio track with no sound in it (0 samples). Replace it with a complete copy."
        )
    if decoded_s < MIN_SECONDS:
        raise AudioDecodeError(
            f"“{name}” is too short to analyse: {math.floor(decoded_s * 100) / 100:.2f} s of audio, and at least "
            f"{MIN_SECONDS:.0f} s is needed."
        )
    if mixer.non_finite >= len(samples):
        raise AudioDecodeError(
            f"“{name}” holds no valid samples: every one is NaN or infinite. Re-export it from its source."
        )
    power = float(np.vdot(samples, samples)) / len(samples)
    if power == 0.0 and mixer.channel_energy == 0.0:
        raise AudioDecodeError(
            f"“{name}” is silent: it holds only digital silence. Check that the right file was chosen."
        )
    level = 10 * math.log10(power) if power > 0 else -math.inf
    if level >= SILENCE_DBFS:
        return
    if mixer.channel_energy > 0 and 10 * math.log10(mixer.channel_energy / mixer.produced) >= SILENCE_DBFS:
        raise AudioDecodeError(
            f"“{name}” is silent when its channels are mixed to mono: one channel is the other inverted, so "
            "they cancel out. Fix the channel polarity and re-export it."
        )
    raise AudioDecodeError(
        f"“{name}” is silent: its level is {level:.0f} dBFS, below the {SILENCE_DBFS:.0f} dBFS needed to "
        "hear anything. Check that the right file was chosen."
    )


def _truncation(path: Path, format_name: str, header_s: float | None, decoded_s: float | None) -> str | None:
    """How the file is cut off, in words, or None if it looks complete.

    `decoded_s` is how much decoding from the start to the end of the file produced, None when it did not
    decode all of it. FFmpeg trims a WAV's length to the bytes present and reads an Ogg's from its last page,
    so for those two formats the container itself is asked what it promised.
    """
    formats = format_name.split(",")
    if "ogg" in formats and _ogg_last_page_incomplete(path):
        return "its last Ogg page is incomplete"
    if "wav" in formats:
        promised_s, available_s = _wav_promised_seconds(path), header_s
    else:
        promised_s, available_s = header_s, decoded_s
    if promised_s is None or available_s is None:
        return None
    if available_s < promised_s - max(0.5, TRUNCATION_MARGIN * promised_s):
        return f"it should last {promised_s:.1f} s but only {available_s:.1f} s could be read"
    return None


def _ogg_last_page_incomplete(path: Path) -> bool:
    # An Ogg page is at most 27 + 255 + 255·255 bytes, so the last page's header is in the last 65,307.
    size = path.stat().st_size
    with open(path, "rb") as handle:
        handle.seek(max(0, size - 65_307))
        tail = handle.read()
    at = tail.rfind(b"OggS\x00")
    if at < 0:
        return False
    if at + 27 > len(tail) or at + 27 + tail[at + 26] > len(tail):
        return True
    segments = tail[at + 27 : at + 27 + tail[at + 26]]
    return at + 27 + len(segments) + sum(segments) > len(tail)


def _wav_promised_seconds(path: Path) -> float | None:
    """The length a PCM WAV's data chunk declares, or None when it does not say (streamed WAVs write 0 or
    0xFFFFFFFF there)."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    position, rate, block_align, pcm = 12, 0, 0, False
    while position + 8 <= len(head):
        chunk, size = head[position : position + 4], int.from_bytes(head[position + 4 : position + 8], "little")
        if chunk == b"fmt " and position + 24 <= len(head):
            pcm = int.from_bytes(head[position + 8 : position + 10], "little") in (1, 3, 0xFFFE)
            rate = int.from_bytes(head[position + 12 : position + 16], "little")
            block_align = int.from_bytes(head[position + 20 : position + 22], "little")
        elif chunk == b"data":
            if not (pcm and rate and block_align) or size in (0, 0xFFFFFFFF):
                return None
            return size / block_align / rate
        position += 8 + size + (size & 1)
    return None


def _read_span(container, stream, start_s: float, end_s: float | None, mixer: _Mixer):
    """Samples of [start_s, end_s) (to the end of the file when end_s is None), the time they really start
    at, and whether the file ended first.

    After a seek, the samples are exactly those a decode of the whole file has at the same place: the input
    is trimmed so the resampler starts on a sample where the input and output grids coincide, and the first
    half second after the seek point, where the decoder and resampler warm up, is thrown away.
    """
    rate = mixer.rate
    mixer.restart()
    seeking = start_s > 0
    if seeking:
        try:
            container.seek(int(max(start_s - SEEK_PREROLL_S, 0.0) / stream.time_base), stream=stream)
        except av.FFmpegError as exc:
            raise _Unseekable from exc
    # Positions count from the first sample a whole decode delivers; MP3s with an encoder-delay tag start
    # their timestamps after the delay, not at zero.
    zero_s = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
    want = None if end_s is None else max(round((end_s - start_s) * rate), 0)
    chunks: list[np.ndarray] = []
    have = skip = drop_in = 0
    actual_start = start_s
    aligned = not seeking

    def keep(blocks):
        nonlocal have, skip
        for block in blocks:
            dropped = min(skip, len(block))
            block = block[dropped:] if want is None else block[dropped : dropped + want - have]
            skip -= dropped
            if len(block):
                chunks.append(block)
                have += len(block)

    for frame in _frames(container, stream, mixer):
        if not aligned:
            aligned = True
            if frame.time is None:
                skip = 0
            else:
                step = math.gcd(frame.sample_rate, rate)
                period_in, period_out = frame.sample_rate // step, rate // step
                first_in = round((float(frame.time) - zero_s) * frame.sample_rate)
                # Trimming needs the frame's samples, which PyAV cannot reach safely beyond eight planes; such
                # rare files get windows off the whole-file grid by less than one sample.
                drop_in = -first_in % period_in if _can_slice(frame) else 0
                first_out = round((first_in + drop_in) * period_out / period_in)
                skip = max(round(start_s * rate) - first_out, 0)
                actual_start = max(start_s, first_out / rate)
        if drop_in:
            frame, drop_in = _drop_leading(frame, drop_in)
            if frame is None:
                continue
        keep(mixer.push(frame))
        if want is not None and have >= want:
            return np.concatenate(chunks), actual_start, False
    keep(mixer.flush())
    samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    return samples, actual_start, True


def _can_slice(frame: av.AudioFrame) -> bool:
    return not frame.format.is_planar or frame.layout.nb_channels <= 8


def _drop_leading(frame: av.AudioFrame, count: int) -> tuple[av.AudioFrame | None, int]:
    """The frame without its first `count` samples (None if that is all of it), and how many are left to drop."""
    if frame.samples <= count:
        return None, count - frame.samples
    planes = frame.to_ndarray()
    width = 1 if frame.format.is_planar else frame.layout.nb_channels
    trimmed = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(planes[:, count * width :]), format=frame.format.name, layout=frame.layout
    )
    trimmed.sample_rate = frame.sample_rate
    trimmed.time_base = frame.time_base
    trimmed.pts = frame.pts + round(count / frame.sample_rate / frame.time_base)
    return trimmed, 0


def _frames(container, stream, mixer: _Mixer) -> Iterator[av.AudioFrame]:
    """Decoded frames of `stream`; damaged packets are counted and skipped, and a read error ends the stream
    as if the file ended there (which is what a truncated file is)."""
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except (av.FFmpegError, OSError):
            mixer.damaged_packets += 1
            return
        try:
            frames = packet.decode()
        except av.FFmpegError:
            if packet.size == 0:
                # The empty packet at the end only drains the decoder; some Vorbis streams refuse it after
                # their last page, and no audio is lost.
                return
            mixer.damaged_packets += 1
            if mixer.damaged_packets > MAX_DAMAGED_PACKETS and not mixer.produced:
                return
            continue
        yield from frames


class _Mixer:
    """Resamples frames to the target rate in the source's own channel layout, then averages the channels.

    The mean matches how the models were trained (librosa's mono); FFmpeg's `mono` layout would add the
    channels at −3 dB each, 3 dB louder than the mean, and the models' log compression is level-dependent.
    """

    def __init__(self, rate: int):
        self.rate = rate
        self.resampler: av.AudioResampler | None = None
        self.source: tuple | None = None
        self.damaged_packets = 0
        self.non_finite = 0
        self.produced = 0
        self.channel_energy = 0.0  # sum over samples of the mean square across channels, before mixing

    def restart(self):
        self.resampler = None
        self.source = None

    def push(self, frame: av.AudioFrame) -> list[np.ndarray]:
        source = (frame.format.name, frame.layout.name, frame.sample_rate)
        blocks: list[np.ndarray] = []
        if source != self.source:
            # Chained Ogg files and some broadcasts change layout or rate mid-stream; a resampler is built
            # for one input shape, so finish the old one and start afresh.
            blocks = self.flush()
            # Interleaved output: PyAV finds a planar frame's planes by scanning for a null pointer, which
            # runs off the end (and crashes) for more than eight channels, as damaged AAC can claim to have.
            self.resampler = av.AudioResampler(format="flt", rate=self.rate, frame_size=MIX_BLOCK)
            self.source = source
        return blocks + [self._mix(out) for out in self.resampler.resample(frame)]

    def flush(self) -> list[np.ndarray]:
        if self.resampler is None:
            return []
        return [self._mix(out) for out in self.resampler.resample(None)]

    def _mix(self, frame: av.AudioFrame) -> np.ndarray:
        channels = frame.layout.nb_channels
        interleaved = frame.to_ndarray().reshape(-1, channels)  # (samples, channels)
        with np.errstate(over="ignore", invalid="ignore"):
            mono = interleaved @ np.full(channels, 1 / channels, dtype=np.float32)
            energy = float(np.vdot(interleaved, interleaved)) / channels
        invalid = ~np.isfinite(mono)
        if invalid.any():
            # A NaN or infinity in any channel, or garbage so large that the sum overflows, spoils that
            # instant of the mix; silence is the least harmful stand-in.
            self.non_finite += int(invalid.sum())
            mono[invalid] = 0.0
        if math.isfinite(energy):
            self.channel_energy += energy
        self.produced += len(mono)
        return mono


def _check_file(path: Path):
    if not path.exists():
        raise AudioDecodeError(f"There is no file at {path}; check the path, or restore the file.")
    if path.is_dir():
        raise AudioDecodeError(f"{path} is a folder, not an audio file.")
    try:
        size = path.stat().st_size
        with open(path, "rb"):
            pass
    except PermissionError:
        raise AudioDecodeError(f"“{path.name}” cannot be read: permission denied. Check its permissions.") from None
    if size == 0:
        raise AudioDecodeError(f"“{path.name}” is empty (0 bytes); copy or upload the file again.")


def _open(path: Path):
    try:
        return av.open(str(path), metadata_errors="ignore")
    except av.error.InvalidDataError:
        raise AudioDecodeError(
            f"“{path.name}” is not audio that can be read: its data is damaged, cut off or in an unknown "
            "format. Replace it with a working copy in a common format (FLAC, MP3, Ogg, M4A, WAV)."
        ) from None
    except av.error.EOFError:
        raise AudioDecodeError(
            f"“{path.name}” ends before any audio starts: it is cut off or was never finished. Replace it with "
            "a complete copy."
        ) from None


def _audio_stream(container, path: Path):
    stream = container.streams.best("audio")
    if stream is not None:
        if stream.codec_context is None:
            raise AudioDecodeError(
                f"“{path.name}” uses an audio codec this server cannot decode; convert it to FLAC, MP3 or Ogg."
            )
        return stream
    if container.format.name in TEXT_FORMATS:
        looks_like = "it looks like a text file"
    elif container.format.name.endswith("_pipe") or container.format.name.startswith("image2"):
        looks_like = "it looks like an image"
    elif container.streams.video:
        looks_like = "it is a video without sound"
    else:
        looks_like = "it holds no sound at all"
    raise AudioDecodeError(f"“{path.name}” has no audio track ({looks_like}); choose an audio file instead.")


def _header_duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _tags(container, stream) -> dict[str, str]:
    """Container and stream tags with lower-case keys; Ogg keeps its comments on the stream, others on the
    container, and the container wins where both have one."""
    tags: dict[str, str] = {}
    for source in (stream.metadata, container.metadata):
        for key, value in source.items():
            cleaned = " ".join(str(value).replace("\x00", " ").split())
            if cleaned:
                tags[key.lower()] = cleaned
    return tags


_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def _year(tags: dict[str, str]) -> int | None:
    for key in ("date", "year", "originaldate", "original_date", "tdrc", "tyer", "tdor"):
        match = _YEAR.search(tags.get(key, ""))
        if match and 1000 <= int(match.group(1)) <= 2999:
            return int(match.group(1))
    return None


def _title_from_name(path: Path) -> str:
    return " ".join(path.stem.replace("_", " ").split()) or path.name


# FFmpeg's own wording for these is about FFmpeg ("patches welcome", "operation not permitted"); a curator
# needs to hear what it means for the file.
_REASONS = {
    av.error.PatchWelcomeError: "it uses a variant of its format that FFmpeg cannot decode, or its header is damaged",
    av.error.PermissionError: "its structure is damaged",
    av.error.InvalidDataError: "its data is damaged",
    av.error.EOFError: "it ends unexpectedly",
    MemoryError: "it would need more memory than this server has",
}


def _unexpected(path: Path, exc: Exception) -> AudioDecodeError:
    # Whatever FFmpeg or NumPy raised, the caller gets one exception type and a sentence for the curator; the
    # original stays chained for whoever debugs it.
    reason = next((text for kind, text in _REASONS.items() if isinstance(exc, kind)), None)
    if reason is None:
        reason = re.sub(r"\[Errno -?\d+\]\s*|:\s*'[^']*'$", "", str(exc)).split(";")[0].strip()
    return AudioDecodeError(
        f"“{path.name}” could not be decoded: {reason or type(exc).__name__}. Replace it with a working copy."
    )
