"""Serving local audio files with HTTP Range support, so that an <audio> element can seek."""

from __future__ import annotations

import mimetypes
import os
import re
from pathlib import Path

from django.http import FileResponse, HttpResponse, StreamingHttpResponse

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK_SIZE = 64 * 1024

mimetypes.add_type("audio/ogg", ".ogg")
mimetypes.add_type("audio/ogg", ".oga")
mimetypes.add_type("audio/ogg", ".opus")
mimetypes.add_type("audio/flac", ".flac")
mimetypes.add_type("audio/mp4", ".m4a")
mimetypes.add_type("audio/wavpack", ".wv")


def parse_byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte of a single-range `Range` header, clamped to the file.

    Returns None for a header we do not honour (several ranges, another unit): the caller then sends the
    whole file, as RFC 9110 allows. Raises ValueError for a range that lies outside the file.
    """
    match = _RANGE.match(header.strip())
    if not match:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":  # a suffix: the last N bytes
        length = int(last)
        if length == 0:
            raise ValueError("empty suffix range")
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise ValueError("range not satisfiable")
    return start, end


def _read_range(path: Path, start: int, end: int):
    with open(path, "rb") as handle:
        handle.seek(start)
        remaining = end - start + 1
        while remaining > 0:
            chunk = handle.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


def ranged_file_response(request, path: Path) -> HttpResponse:
    size = os.path.getsize(path)
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    header = request.headers.get("Range", "")
    try:
        byte_range = parse_byte_range(header, size) if header else None
    except ValueError:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    if byte_range is None:
        response = FileResponse(open(path, "rb"), content_type=content_type)
    else:
        start, end = byte_range
        response = StreamingHttpResponse(_read_range(path, start, end), status=206, content_type=content_type)
        response["Content-Length"] = str(end - start + 1)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    return response
