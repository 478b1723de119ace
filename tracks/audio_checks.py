"""Judging what was decoded: whether a file is cut off (asking WAV and Ogg containers what they promised),
whether the samples can stand for the file at all (long enough, valid, and not silent), and bringing samples
beyond full scale back into [-1, 1].
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from tracks.audio_container import AudioDecodeError
from tracks.audio_frames import Mixer

MIN_SECONDS = 1.0
SILENCE_DBFS = -70.0
# A decoded length this much shorter than the header's means the file is cut off, not a rounding difference
# (MP3 headers without a VBR table estimate their length, so the margin is generous).
TRUNCATION_MARGIN = 0.03
# Resampling a loud master overshoots full scale between its samples by up to about 1 dB; such overs are
# clipped without a word. Anything louder is in the file itself, and the track's warning says what was done.
QUIET_OVER = 10 ** (1 / 20)
# Samples beyond full scale are clipped while they are rare (peaks); when this percentile of the magnitudes is
# beyond it too, the whole file is mis-scaled (floats written as if integers, garbage near 1e30, a master 6 dB
# too hot) and is scaled down by that much first, which keeps its waveform where clipping would square it off.
SCALE_QUANTILE = 99.9


def spoken_duration(seconds: float) -> str:
    """A length as a person says it: 1 ms, 0.50 s, 20 s, 3 min 5 s, 2 h 10 min, 433 h."""
    if seconds < 0.1:
        return f"{max(round(seconds * 1000), 1 if seconds > 0 else 0)} ms"
    if seconds < 10:
        return f"{math.floor(seconds * 100) / 100:.2f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    if whole >= 36000:
        return f"{round(seconds / 3600)} h"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def ends_early(promised_s: float, available_s: float) -> bool:
    """Whether `available_s` falls short of `promised_s` by more than rounding and length estimates explain."""
    return available_s < promised_s - max(0.5, TRUNCATION_MARGIN * promised_s)


def cut_short(promised_s: float, holds_s: float | None) -> str:
    """How a file whose header promises more than it holds is cut short, in words."""
    if holds_s is None:
        return f"its header promises {spoken_duration(promised_s)} but its audio ends sooner"
    return f"its header promises {spoken_duration(promised_s)} but it holds {spoken_duration(holds_s)} of audio"


def fit_to_full_scale(samples: np.ndarray) -> str | None:
    """Bring `samples` into [-1, 1] in place; returns a warning for the curator when that changed the audio."""
    if not len(samples):
        return None
    magnitude = np.abs(samples)
    peak = float(magnitude.max())
    if peak <= QUIET_OVER:
        np.clip(samples, -1.0, 1.0, out=samples)
        return None
    level = float(np.percentile(magnitude, SCALE_QUANTILE))
    if level > QUIET_OVER:
        samples /= np.float32(level)
        magnitude /= np.float32(level)
    clipped = int(np.count_nonzero(magnitude > 1.0))
    np.clip(samples, -1.0, 1.0, out=samples)
    if level > QUIET_OVER:
        also = f", and {clipped} sample(s) still beyond it were clipped" if clipped else ""
        return (
            f"The decoded samples go up to {peak:.3g} times full scale (the file is mis-scaled), so the audio was "
            f"scaled down by {20 * math.log10(level):.0f} dB to fit{also}."
        )
    return f"{clipped} sample(s) went beyond full scale (up to {peak:.3g} times it) and were clipped."


def check_content(name: str, samples: np.ndarray, mixer: Mixer, cut: str | None):
    """Raise if what was decoded cannot stand for the file: nothing, too little, invalid or silent."""
    decoded_s = len(samples) / mixer.rate
    if decoded_s == 0 and mixer.consumed_s < MIN_SECONDS:
        # A few milliseconds of audio can vanish in the resampler's filter delay: then say what went in.
        decoded_s = mixer.consumed_s
    if decoded_s < MIN_SECONDS and cut:
        raise AudioDecodeError(
            f"“{name}” is truncated ({cut}), and the {spoken_duration(decoded_s)} that can be decoded are too "
            "little to analyse. Replace it with a complete copy."
        )
    if decoded_s < MIN_SECONDS and mixer.damaged_packets:
        raise AudioDecodeError(
            f"“{name}” is damaged: only {spoken_duration(decoded_s)} of it could be decoded "
            f"({mixer.damaged_packets} unreadable packets). Replace it with a working copy."
        )
    if decoded_s == 0:
        raise AudioDecodeError(
            f"“{name}” has an audio track with no sound in it (0 samples). Replace it with a complete copy."
        )
    if decoded_s < MIN_SECONDS:
        raise AudioDecodeError(
            f"“{name}” is too short to analyse: only {spoken_duration(decoded_s)} of audio, and at least "
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


def truncation(path: Path, format_name: str, header_s: float | None, decoded_s: float | None) -> str | None:
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
    if ends_early(promised_s, available_s):
        return f"it should last {_seconds(promised_s)} but only {_seconds(available_s)} could be read"
    return None


def _seconds(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 60 else spoken_duration(seconds)


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
