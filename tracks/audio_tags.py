"""Reading a file's tags: title, artist, album, genre and year, with multi-valued tags split into their values.

A tag may hold several values: two TITLE or ARTIST comments in a FLAC or Ogg file (FFmpeg hands them over joined
by ";"), NUL-separated values in an ID3v2.4 frame, or the same ID3 frame twice (FFmpeg keeps only the first of
those two, so ID3 text frames are read here as well). Every value is kept, in order and without repeats, joined
by "; ": "Alpha;Beta" is stored and shown as "Alpha; Beta", and search, which splits on punctuation, finds each.
"""

from __future__ import annotations

import re
from pathlib import Path

VALUE_SEPARATOR = "; "
_SPLIT = re.compile(r"[;\x00]")

# ID3 text frames whose values are worth keeping all of (genres are left to FFmpeg, which also turns ID3v1 genre
# numbers such as "(17)" into names).
_ID3_FRAMES = {
    "TIT2": "title", "TPE1": "artist", "TALB": "album", "TPE2": "album_artist",  # ID3v2.3 and v2.4
    "TT2": "title", "TP1": "artist", "TAL": "album", "TP2": "album_artist",  # ID3v2.2
}
_MAX_ID3_BYTES = 16 << 20


def joined_values(values) -> str:
    """The distinct non-empty values of `values` (each may itself be "A;B" or "A\\x00B"), joined by "; "."""
    seen: dict[str, str] = {}
    for value in values:
        for part in _SPLIT.split(str(value)):
            part = " ".join(part.split())
            if part and part.casefold() not in seen:
                seen[part.casefold()] = part
    return VALUE_SEPARATOR.join(seen.values())


def read_tags(container, stream, path: Path | None = None) -> dict[str, str]:
    """Container and stream tags with lower-case keys, multi-valued ones as "A; B"; Ogg keeps its comments on
    the stream, others on the container, and the container wins where both have one."""
    tags: dict[str, str] = {}
    for source in (stream.metadata, container.metadata):
        for key, value in source.items():
            cleaned = joined_values([value])
            if cleaned:
                tags[key.lower()] = cleaned
    if path is not None:
        for key, values in id3_text_values(path).items():
            every = joined_values(values)
            if VALUE_SEPARATOR in every:  # FFmpeg kept only the first value
                tags[key] = every
    return tags


_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def year_from_tags(tags: dict[str, str]) -> int | None:
    for key in ("date", "year", "originaldate", "original_date", "tdrc", "tyer", "tdor"):
        match = _YEAR.search(tags.get(key, ""))
        if match and 1000 <= int(match.group(1)) <= 2999:
            return int(match.group(1))
    return None


def title_from_name(path: Path | str) -> str:
    path = Path(path)
    return " ".join(path.stem.replace("_", " ").split()) or path.name


def id3_text_values(path: Path) -> dict[str, list[str]]:
    """Every value of the title, artist and album frames of an ID3v2 tag at the start of `path`.

    Only what FFmpeg drops is wanted here, so anything unusual (compressed or encrypted frames, a damaged tag)
    is skipped rather than reported: FFmpeg's own reading still stands.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(10)
            if len(head) < 10 or head[:3] != b"ID3" or head[3] not in (2, 3, 4):
                return {}
            size = _syncsafe(head[6:10])
            data = handle.read(min(size, _MAX_ID3_BYTES))
    except OSError:
        return {}
    major, flags = head[3], head[5]
    if flags & 0x80 and major < 4:  # the whole tag is unsynchronised
        data = data.replace(b"\xff\x00", b"\xff")
    position = 0
    if flags & 0x40 and major == 3 and len(data) >= 4:
        position = 4 + int.from_bytes(data[:4], "big")
    elif flags & 0x40 and major == 4 and len(data) >= 4:
        position = _syncsafe(data[:4])
    values: dict[str, list[str]] = {}
    header = 6 if major == 2 else 10
    while position + header <= len(data):
        if major == 2:
            frame_id, size, frame_flags = data[position : position + 3], int.from_bytes(
                data[position + 3 : position + 6], "big"
            ), 0
        else:
            frame_id = data[position : position + 4]
            raw_size = data[position + 4 : position + 8]
            size = _syncsafe(raw_size) if major == 4 else int.from_bytes(raw_size, "big")
            frame_flags = data[position + 9]
        if not frame_id.isalnum():  # padding, or the end of what can be understood
            break
        body = data[position + header : position + header + size]
        position += header + size
        key = _ID3_FRAMES.get(frame_id.decode("latin-1"))
        if key is None:
            continue
        if major == 4:
            if frame_flags & 0x0C:  # compressed or encrypted
                continue
            if frame_flags & 0x02:
                body = body.replace(b"\xff\x00", b"\xff")
            if frame_flags & 0x01:  # a data length indicator precedes the text
                body = body[4:]
        elif major == 3:
            if frame_flags & 0xC0:
                continue
            if frame_flags & 0x20:  # a grouping byte precedes the text
                body = body[1:]
        values.setdefault(key, []).extend(_id3_strings(body))
    return values


def _syncsafe(four: bytes) -> int:
    return (four[0] & 0x7F) << 21 | (four[1] & 0x7F) << 14 | (four[2] & 0x7F) << 7 | (four[3] & 0x7F)


def _id3_strings(body: bytes) -> list[str]:
    if not body:
        return []
    encoding, raw = body[0], body[1:]
    codec = {0: "latin-1", 1: "utf-16", 2: "utf-16-be", 3: "utf-8"}.get(encoding)
    if codec is None:
        return []
    if codec.startswith("utf-16") and len(raw) % 2:
        raw = raw[:-1]
    text = raw.decode(codec, errors="replace")
    return [part.replace("\ufeff", "").strip() for part in text.split("\x00") if part.replace("\ufeff", "").strip()]
