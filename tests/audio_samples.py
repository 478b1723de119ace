"""Small synthetic audio files for the decoding and model tests: real codecs, real containers, and broken files.

Everything is generated into a folder the caller owns (pytest's tmp_path), so the tests never depend on the
corpus. Clips are a few seconds long at modest rates, so the whole suite stays fast.
"""

from __future__ import annotations

import struct
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

Signal = Callable[[float, int], np.ndarray]


@dataclass(frozen=True)
class CodecSpec:
    container: str  # FFmpeg muxer name
    encoder: str
    suffix: str
    rate: int | None = None  # the only rate the encoder accepts, where it has one
    channels: tuple[int, ...] = (1, 2, 6)  # channel counts the encoder accepts
    sample_format: str | None = None  # where the encoder's first choice is not the one wanted
    options: tuple[tuple[str, str], ...] = ()  # for the encoder
    container_options: tuple[tuple[str, str], ...] = ()  # for the muxer


CODECS: dict[str, CodecSpec] = {
    "wav": CodecSpec("wav", "pcm_s16le", ".wav"),
    "wav_float": CodecSpec("wav", "pcm_f32le", ".wav"),
    "flac": CodecSpec("flac", "flac", ".flac"),
    "mp3": CodecSpec("mp3", "libmp3lame", ".mp3", channels=(1, 2)),
    # FFmpeg's own Vorbis encoder is experimental and stereo-only; the wheel has no libvorbis.
    "vorbis": CodecSpec("ogg", "vorbis", ".ogg", channels=(2,), options=(("strict", "experimental"),)),
    "opus": CodecSpec("ogg", "libopus", ".opus", rate=48000),
    # Streaming-ready M4A puts its index first, so a cut-off copy can still be read; FFmpeg's default puts it
    # last, as many desktop encoders do, and then a cut-off copy is unreadable.
    "aac": CodecSpec("ipod", "aac", ".m4a", container_options=(("movflags", "+faststart"),)),
    "aac_index_last": CodecSpec("ipod", "aac", ".m4a"),
    # WavPack's first sample format is 8-bit; 16-bit is what real files hold.
    "wavpack": CodecSpec("wv", "wavpack", ".wv", sample_format="s16p"),
}

LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1"}


class CodecUnavailable(RuntimeError):
    """This PyAV build cannot encode the codec asked for; tests skip rather than fail."""


def codec_available(codec: str, channels: int = 2) -> bool:
    """Whether this PyAV wheel can encode `codec` (a key of CODECS) with `channels` into its container."""
    spec = CODECS[codec]
    return spec.encoder in av.codecs_available and spec.container in av.formats_available and channels in spec.channels


def _spec(codec: str, channels: int) -> CodecSpec:
    if not codec_available(codec, channels):
        raise CodecUnavailable(f"This PyAV build cannot encode {codec} with {channels} channel(s).")
    return CODECS[codec]


def available_codecs() -> list[str]:
    return [codec for codec in CODECS if codec_available(codec)]


def tone(seconds: float, sample_rate: int, frequency: float = 440.0, level_db: float = -12.0) -> np.ndarray:
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    return (10 ** (level_db / 20) * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def noise(seconds: float, sample_rate: int, level_db: float = -20.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (10 ** (level_db / 20) * rng.standard_normal(round(seconds * sample_rate))).astype(np.float32)


def silence(seconds: float, sample_rate: int) -> np.ndarray:
    return np.zeros(round(seconds * sample_rate), dtype=np.float32)


def _hiss(n: int, sample_rate: int, seed: int) -> np.ndarray:
    """Noise drawn at 16 kHz and interpolated, so a clip made at any rate carries the same hiss, and a
    resampled copy can be compared with one made at the target rate."""
    base = np.random.default_rng(seed).standard_normal(int(np.ceil(n * 16000 / sample_rate)) + 2)
    return np.interp(np.arange(n) * 16000 / sample_rate, np.arange(len(base)), base)


def beat(seconds: float, sample_rate: int, bpm: float = 120.0, seed: int = 0) -> np.ndarray:
    """Drums alone: a kick on every beat, a hi-hat between beats and a snare on beats two and four."""
    n = round(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    period = 60.0 / bpm
    since_beat = np.mod(t, period)
    kick = np.sin(2 * np.pi * (50 + 100 * np.exp(-since_beat * 30)) * since_beat) * np.exp(-since_beat * 12)
    hiss = _hiss(n, sample_rate, seed)
    since_offbeat = np.mod(t - period / 2, period)
    hat = hiss * np.exp(-since_offbeat * 60) * (t >= period / 2)
    since_backbeat = np.mod(t - period, 2 * period)
    snare = (hiss + np.sin(2 * np.pi * 190 * t)) * np.exp(-since_backbeat * 20) * (t >= period)
    mix = 1.2 * kick + 0.3 * hat + 0.5 * snare
    return (0.5 * mix / np.abs(mix).max()).astype(np.float32)


def music(seconds: float, sample_rate: int, bpm: float = 120.0, seed: int = 0) -> np.ndarray:
    """An A-minor chord with decaying harmonics over a kick on every beat and a hi-hat between beats.

    Peak about -6 dBFS, so lossy codecs have headroom and the level tests are not disturbed by clipping.
    """
    n = round(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    chord = np.zeros(n)
    for root in (220.0, 261.63, 329.63):
        for harmonic in range(1, 7):
            frequency = root * harmonic
            if frequency < sample_rate / 2:
                chord += np.sin(2 * np.pi * frequency * t + harmonic) / harmonic
    chord *= 0.6 + 0.4 * np.cos(2 * np.pi * t * bpm / 60 / 4) ** 2

    period = 60.0 / bpm
    since_beat = np.mod(t, period)
    kick = np.sin(2 * np.pi * (50 + 100 * np.exp(-since_beat * 30)) * since_beat) * np.exp(-since_beat * 12)
    since_offbeat = np.mod(t - period / 2, period)
    hat = _hiss(n, sample_rate, seed) * np.exp(-since_offbeat * 60) * (t >= period / 2)

    mix = chord / np.abs(chord).max() + 1.2 * kick + 0.3 * hat
    return (0.5 * mix / np.abs(mix).max()).astype(np.float32)


def _as_channels(samples: np.ndarray, channels: int) -> np.ndarray:
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 1:
        return np.tile(samples, (channels, 1))
    if samples.shape[0] != channels:
        raise ValueError(f"Signal has {samples.shape[0]} channels, expected {channels}.")
    return samples


def write_clip(
    path: Path,
    seconds: float = 2.0,
    sample_rate: int = 44100,
    channels: int = 2,
    codec: str = "wav",
    signal: Signal | np.ndarray = music,
    tags: dict[str, str] | None = None,
) -> Path:
    """Encode a clip with PyAV and return its path (whatever suffix `path` has, the container is `codec`'s).

    `signal` is either a maker called as signal(seconds, sample_rate), whose mono output goes identically to
    every channel, or an array of shape (n,) or (channels, n) at `sample_rate`.
    """
    spec = _spec(codec, channels)
    samples = signal(seconds, sample_rate) if callable(signal) else signal
    planes = np.ascontiguousarray(_as_channels(samples, channels))
    layout = LAYOUTS[channels]

    with av.open(str(path), "w", format=spec.container, options=dict(spec.container_options)) as container:
        stream = container.add_stream(spec.encoder, rate=spec.rate or sample_rate, options=dict(spec.options))
        stream.layout = layout
        if spec.sample_format:
            stream.format = spec.sample_format
        if tags:
            container.metadata.update(tags)
            # Ogg keeps Vorbis comments per stream; other muxers read the container's tags.
            stream.metadata.update(tags)
        block = 4096
        for start in range(0, planes.shape[1], block):
            frame = av.AudioFrame.from_ndarray(planes[:, start : start + block], format="fltp", layout=layout)
            frame.sample_rate = sample_rate
            frame.pts = start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return Path(path)


def write_twelve_channels(path: Path, planes: np.ndarray, sample_rate: int) -> Path:
    """A 7.1.4 (twelve-channel) WavPack file of `planes` (12, n), for the decoder's more-than-eight-planes path.

    Frames go in interleaved: PyAV cannot build planar frames with more than eight channels.
    """
    _spec("wavpack", 2)
    interleaved = np.ascontiguousarray((np.clip(planes.T, -1, 1) * 32767).astype(np.int16))
    with av.open(str(path), "w", format="wv") as container:
        stream = container.add_stream("wavpack", rate=sample_rate)
        stream.layout, stream.format = "7.1.4", "s16p"
        for start in range(0, len(interleaved), 4096):
            block = interleaved[start : start + 4096].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(block, format="s16", layout="7.1.4")
            frame.sample_rate, frame.pts = sample_rate, start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return Path(path)


def write_long_wav(path: Path, seconds: float = 3600.0, sample_rate: int = 8000) -> Path:
    """A long 8-bit mono WAV written in one-minute chunks, cheap to make and still a real file.

    Minute m holds a tone at 200 + 5·m Hz, so a test can tell from the audio where in the file a window came
    from.
    """
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(1)
        handle.setframerate(sample_rate)
        minutes = int(np.ceil(seconds / 60))
        for minute in range(minutes):
            length = min(60.0, seconds - 60 * minute)
            chunk = tone(length, sample_rate, frequency=minute_tone(minute), level_db=-6.0)
            handle.writeframes((128 + 127 * chunk).astype(np.uint8).tobytes())
    return Path(path)


def minute_tone(minute: int) -> float:
    return 200.0 + 5.0 * minute


def write_empty(path: Path) -> Path:
    Path(path).write_bytes(b"")
    return Path(path)


def write_text(path: Path) -> Path:
    Path(path).write_text("Setlist for Friday\n1. Opening\n2. Ballad\n3. Encore\n" * 40)
    return Path(path)


def write_garbage(path: Path, size: int = 64_000, seed: int = 0) -> Path:
    Path(path).write_bytes(np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes())
    return Path(path)


def write_png(path: Path) -> Path:
    """A real PNG image (PyAV's png encoder emits a complete file per frame)."""
    gradient = np.linspace(0, 255, 32 * 32 * 3).astype(np.uint8).reshape(32, 32, 3)
    codec = av.CodecContext.create("png", "w")
    codec.width, codec.height, codec.pix_fmt = 32, 32, "rgb24"
    packets = codec.encode(av.VideoFrame.from_ndarray(gradient, format="rgb24")) + codec.encode(None)
    Path(path).write_bytes(b"".join(bytes(packet) for packet in packets))
    return Path(path)


def write_video_only(path: Path, frames: int = 10) -> Path:
    """A short MPEG-4 video with no audio track, as a phone might record with the microphone off."""
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for index in range(frames):
            image = np.full((64, 64, 3), index * 20, dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode(None))
    return Path(path)


def write_zero_length(path: Path, codec: str = "wav") -> Path:
    """A valid container whose audio stream holds no samples (a recording stopped before it started)."""
    spec = _spec(codec, 2)
    with av.open(str(path), "w", format=spec.container) as container:
        stream = container.add_stream(spec.encoder, rate=spec.rate or 44100, options=dict(spec.options))
        stream.layout = "stereo"
        container.start_encoding()
    return Path(path)


def write_unknown_codec(path: Path) -> Path:
    """A well-formed WAV whose format tag names a codec FFmpeg does not know."""
    samples = bytes(16000)
    fmt = struct.pack("<HHIIHH", 0x9999, 1, 8000, 16000, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(samples)) + samples
    Path(path).write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return Path(path)


def write_truncated(path: Path, keep: float, **clip) -> Path:
    """A clip cut off after `keep` of its bytes, as an interrupted download or copy leaves it."""
    write_clip(path, **clip)
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: int(len(data) * keep)])
    return Path(path)


def write_damaged_header(path: Path, **clip) -> Path:
    """A clip whose first kilobyte is overwritten with random bytes, so no demuxer recognises it."""
    write_clip(path, **clip)
    data = bytearray(Path(path).read_bytes())
    data[:1024] = np.random.default_rng(1).integers(0, 256, 1024, dtype=np.uint8).tobytes()
    Path(path).write_bytes(bytes(data))
    return Path(path)


def write_damaged_middle(path: Path, **clip) -> Path:
    """A clip with a stretch of random bytes in the middle: the start and end are intact."""
    write_clip(path, **clip)
    data = bytearray(Path(path).read_bytes())
    middle = len(data) // 2
    data[middle : middle + 2048] = np.random.default_rng(2).integers(0, 256, 2048, dtype=np.uint8).tobytes()
    Path(path).write_bytes(bytes(data))
    return Path(path)
