"""Real audio files that lie about themselves or carry unusual tags, made the way such files come about: a
valid file is written with PyAV (tests/audio_samples.py) and then patched byte by byte.

- a FLAC whose STREAMINFO promises far more samples than the file holds (an encoder that never finished);
- a FLAC whose Vorbis comments name several titles and artists (FFmpeg joins them with ";");
- an MP3 whose ID3v2 tag holds several values in one frame (v2.4, NUL-separated) or the same frame twice.
"""

from __future__ import annotations

import struct
from pathlib import Path

from tests.audio_samples import write_clip

FLAC_MAX_SAMPLES = (1 << 36) - 1  # STREAMINFO's 36-bit sample count, all ones: 433 h at 44.1 kHz


def _flac_blocks(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """The metadata blocks (type, body) of a FLAC file, and the audio frames after them."""
    assert data[:4] == b"fLaC"
    position, blocks = 4, []
    while True:
        header = data[position]
        size = int.from_bytes(data[position + 1 : position + 4], "big")
        blocks.append((header & 0x7F, data[position + 4 : position + 4 + size]))
        position += 4 + size
        if header & 0x80:
            return blocks, data[position:]


def _flac_file(blocks: list[tuple[int, bytes]], audio: bytes) -> bytes:
    out = b"fLaC"
    for index, (kind, body) in enumerate(blocks):
        last = 0x80 if index == len(blocks) - 1 else 0
        out += bytes([kind | last]) + len(body).to_bytes(3, "big") + body
    return out + audio


def write_flac_promising(path: Path, total_samples: int = FLAC_MAX_SAMPLES, **clip) -> Path:
    """A valid FLAC whose header then says it holds `total_samples` samples (by default the most it can say)."""
    write_clip(path, codec="flac", **clip)
    blocks, audio = _flac_blocks(Path(path).read_bytes())
    kind, info = blocks[0]
    assert kind == 0  # STREAMINFO
    info = bytearray(info)
    info[13] = (info[13] & 0xF0) | ((total_samples >> 32) & 0x0F)
    info[14:18] = (total_samples & 0xFFFFFFFF).to_bytes(4, "big")
    info[18:34] = bytes(16)  # an MD5 of zeros means "not computed", so no decoder checks it
    blocks[0] = (kind, bytes(info))
    Path(path).write_bytes(_flac_file(blocks, audio))
    return Path(path)


def write_flac_with_comments(path: Path, comments: list[str], **clip) -> Path:
    """A FLAC whose Vorbis comment block is exactly `comments` ("TITLE=Alpha", "TITLE=Beta", ...)."""
    write_clip(path, codec="flac", **clip)
    blocks, audio = _flac_blocks(Path(path).read_bytes())
    vendor = b"wavelength tests"
    body = struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", len(comments))
    for comment in comments:
        encoded = comment.encode()
        body += struct.pack("<I", len(encoded)) + encoded
    blocks = [block for block in blocks if block[0] != 4] + [(4, body)]
    Path(path).write_bytes(_flac_file(blocks, audio))
    return Path(path)


def _syncsafe(size: int) -> bytes:
    return bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])


def id3_frame(frame_id: str, text: str, version: int = 4, encoding: int = 3) -> bytes:
    """One ID3v2 text frame; encoding 3 is UTF-8 (v2.4 only), 1 is UTF-16 with a byte-order mark per value."""
    if encoding == 1:
        body = b"\x01" + b"\x00\x00".join(value.encode("utf-16") for value in text.split("\x00"))
    else:
        body = bytes([encoding]) + text.encode("utf-8" if encoding == 3 else "latin-1")
    size = _syncsafe(len(body)) if version == 4 else struct.pack(">I", len(body))
    return frame_id.encode() + size + b"\x00\x00" + body


def write_mp3_with_id3(path: Path, frames: list[bytes], version: int = 4, **clip) -> Path:
    """An MP3 whose ID3v2 tag is exactly `frames` (the tag FFmpeg's muxer wrote is replaced)."""
    write_clip(path, codec="mp3", **clip)
    data = Path(path).read_bytes()
    if data[:3] == b"ID3":
        size = (data[6] & 0x7F) << 21 | (data[7] & 0x7F) << 14 | (data[8] & 0x7F) << 7 | (data[9] & 0x7F)
        data = data[10 + size :]
    body = b"".join(frames)
    tag = b"ID3" + bytes([version, 0, 0]) + _syncsafe(len(body)) + body
    Path(path).write_bytes(tag + data)
    return Path(path)


def write_mp3_promising(path: Path, frames: int = 10**8, **clip) -> Path:
    """A valid MP3 whose Xing/Info header then says it holds `frames` frames (10⁸ frames: 726 h at 44.1 kHz)."""
    write_clip(path, codec="mp3", **clip)
    data = bytearray(Path(path).read_bytes())
    at = max(data.find(b"Xing"), data.find(b"Info"))
    assert at >= 0 and int.from_bytes(data[at + 4 : at + 8], "big") & 1  # the frame count is present
    data[at + 8 : at + 12] = frames.to_bytes(4, "big")
    Path(path).write_bytes(bytes(data))
    return Path(path)
