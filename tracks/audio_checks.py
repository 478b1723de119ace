"""Judging what was decoded: whether a file is cut off (asking WAV and Ogg containers what they promised), and
whether the samples can stand for the file at all: long enough, valid, and not silent.
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


def check_content(name: str, samples: np.ndarray, mixer: Mixer, cut: str | None):
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
