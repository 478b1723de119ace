"""Opening an audio file and reading what its container says, before any decoding: that the file is there and
readable, its audio stream, its length from the header, and its tags. Also the one exception every reading
failure becomes, with a sentence a curator can act on.
"""

from __future__ import annotations

import re
from pathlib import Path

import av

# FFmpeg demuxers that turn any bytes into pictures of text (ANSI art, binary text); they claim files by
# extension, so a .txt or .bin handed in by mistake opens as "video".
TEXT_FORMATS = {"tty", "bin", "xbin", "idf", "adf"}


class AudioDecodeError(Exception):
    """The file cannot be used as audio; the message is a sentence a curator can act on."""


def check_file(path: Path, name: str):
    """`name` is the file as the person who added it knows it (its path in their folder, or the name it was
    uploaded under), which every message uses; `path` is where this server keeps it."""
    if not path.exists():
        where = "" if name == str(path) else f" at {path}"
        raise AudioDecodeError(f"“{name}” is missing: there is no file{where}; check the path, or restore the file.")
    if path.is_dir():
        raise AudioDecodeError(f"“{name}” is a folder, not an audio file.")
    try:
        size = path.stat().st_size
        with open(path, "rb"):
            pass
    except PermissionError:
        raise AudioDecodeError(f"“{name}” cannot be read: permission denied. Check its permissions.") from None
    if size == 0:
        raise AudioDecodeError(f"“{name}” is empty (0 bytes); copy or upload the file again.")


def open_audio(path: Path, name: str):
    try:
        return av.open(str(path), metadata_errors="ignore")
    except av.error.InvalidDataError:
        raise AudioDecodeError(
            f"“{name}” is not audio that can be read: its data is damaged, cut off or in an unknown "
            "format. Replace it with a working copy in a common format (FLAC, MP3, Ogg, M4A, WAV)."
        ) from None
    except av.error.EOFError:
        raise AudioDecodeError(
            f"“{name}” ends before any audio starts: it is cut off or was never finished. Replace it with "
            "a complete copy."
        ) from None


def audio_stream(container, name: str):
    stream = container.streams.best("audio")
    if stream is not None:
        if stream.codec_context is None:
            raise AudioDecodeError(
                f"“{name}” uses an audio codec this server cannot decode; convert it to FLAC, MP3 or Ogg."
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
    raise AudioDecodeError(f"“{name}” has no audio track ({looks_like}); choose an audio file instead.")


def header_duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


# Reading the last packets after a seek to where the header says the audio ends stops after this many: a
# demuxer that cannot seek near the end leaves the answer unknown rather than reading a whole file.
END_PACKETS = 2000


def audio_end(container, stream, header_s: float) -> float | None:
    """Where the audio really stops, in seconds from its start, or None when that cannot be told cheaply.

    A seek to the end the header states lands on the last packet at or before it (FFmpeg seeks backwards), and
    reading from there to the end of the file gives the last timestamp. Leaves the container at the end.
    """
    if not stream.time_base:
        return None
    try:
        container.seek(int(header_s / stream.time_base), stream=stream)
    except (av.FFmpegError, OverflowError):
        return None
    zero = stream.start_time or 0
    end = None
    packets = container.demux(stream)
    for _ in range(END_PACKETS):
        try:
            packet = next(packets)
        except StopIteration:
            break
        except (av.FFmpegError, OSError):  # a cut-off file: it ends here
            break
        if packet.pts is not None and packet.size:
            stop = packet.pts + (packet.duration or 0)
            end = stop if end is None else max(end, stop)
    else:
        return None
    return None if end is None else max(float((end - zero) * stream.time_base), 0.0)


# FFmpeg's own wording for these is about FFmpeg ("patches welcome", "operation not permitted"); a curator
# needs to hear what it means for the file.
_REASONS = {
    av.error.PatchWelcomeError: "it uses a variant of its format that FFmpeg cannot decode, or its header is damaged",
    av.error.PermissionError: "its structure is damaged",
    av.error.InvalidDataError: "its data is damaged",
    av.error.EOFError: "it ends unexpectedly",
    MemoryError: "it would need more memory than this server has",
}


def unexpected_error(name: str, exc: Exception) -> AudioDecodeError:
    # Whatever FFmpeg or NumPy raised, the caller gets one exception type and a sentence for the curator; the
    # original stays chained for whoever debugs it.
    reason = next((text for kind, text in _REASONS.items() if isinstance(exc, kind)), None)
    if reason is None:
        reason = re.sub(r"\[Errno -?\d+\]\s*|:\s*'[^']*'$", "", str(exc)).split(";")[0].strip()
    return AudioDecodeError(
        f"“{name}” could not be decoded: {reason or type(exc).__name__}. Replace it with a working copy."
    )
