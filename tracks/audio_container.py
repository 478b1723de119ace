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


def check_file(path: Path):
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


def open_audio(path: Path):
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


def audio_stream(container, path: Path):
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


def header_duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def read_tags(container, stream) -> dict[str, str]:
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


def year_from_tags(tags: dict[str, str]) -> int | None:
    for key in ("date", "year", "originaldate", "original_date", "tdrc", "tyer", "tdor"):
        match = _YEAR.search(tags.get(key, ""))
        if match and 1000 <= int(match.group(1)) <= 2999:
            return int(match.group(1))
    return None


def title_from_name(path: Path) -> str:
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


def unexpected_error(path: Path, exc: Exception) -> AudioDecodeError:
    # Whatever FFmpeg or NumPy raised, the caller gets one exception type and a sentence for the curator; the
    # original stays chained for whoever debugs it.
    reason = next((text for kind, text in _REASONS.items() if isinstance(exc, kind)), None)
    if reason is None:
        reason = re.sub(r"\[Errno -?\d+\]\s*|:\s*'[^']*'$", "", str(exc)).split(";")[0].strip()
    return AudioDecodeError(
        f"“{path.name}” could not be decoded: {reason or type(exc).__name__}. Replace it with a working copy."
    )
