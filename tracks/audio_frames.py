"""Reading one span of an audio stream as mono float32 at a model's rate: seeking with a lead-in, skipping
damaged packets, resampling on the whole-file sample grid and averaging the channels (the Mixer).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import av
import numpy as np

# Decoding starts this long before a window and the lead-in is thrown away: Opus needs 80 ms of pre-roll,
# MP3's bit reservoir reaches a few frames back, Vorbis and AAC overlap-add with the previous block, and the
# resampler's filter starts from silence. Half a second covers all of them.
SEEK_PREROLL_S = 0.5
# Past this many unreadable packets with no audio decoded yet, reading stops: the file is damaged beyond use.
MAX_DAMAGED_PACKETS = 200
# Output frames of this many samples: the NumPy work per frame costs the same for 1,024 samples as for 8,192,
# and it holds the GIL that decode_many needs free.
MIX_BLOCK = 8192


class Unseekable(Exception):
    """The stream refused to seek; decode() then reads the file again from its start, still bounded."""


def read_span(container, stream, start_s: float, end_s: float | None, mixer: Mixer):
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
            raise Unseekable from exc
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


def _frames(container, stream, mixer: Mixer) -> Iterator[av.AudioFrame]:
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


class Mixer:
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
        self.consumed_s = 0.0  # seconds of the source fed in, which the output lags by the filter's delay
        self.channel_energy = 0.0  # sum over samples of the mean square across channels, before mixing

    def restart(self):
        self.resampler = None
        self.source = None

    def push(self, frame: av.AudioFrame) -> list[np.ndarray]:
        source = (frame.format.name, frame.layout.name, frame.sample_rate)
        self.consumed_s += frame.samples / frame.sample_rate
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
