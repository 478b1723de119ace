"""The map's points as one compact binary: 12 bytes a point, in columns the browser views without copying.

Little-endian, for n points, column after column (each starts at a multiple of its own width):

  offset 0     uint32[n]  track id
  offset 4n    uint16[n]  x, in 65536 steps across the map's bounds (meta: "bounds" = [x0, y0, x1, y1])
  offset 6n    uint16[n]  y, likewise
  offset 8n    uint16[n]  album: index into meta "albums" (65535: none, or beyond the 65535th album)
  offset 10n   uint8[n]   top tag: index into meta "tags" (255: none)
  offset 11n   uint8[n]   reserved (0)

A step is 1/65535 of the map's width: below a pixel on any screen, even zoomed in a hundredfold.
"""

from __future__ import annotations

import numpy as np

BYTES_PER_POINT = 12
NO_ALBUM = 65535
NO_TAG = 255


def quantise(xy: np.ndarray, bounds: tuple[float, float, float, float]) -> np.ndarray:
    """(n, 2) coordinates as uint16 steps across `bounds` (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = bounds
    span = np.array([max(x1 - x0, 1e-12), max(y1 - y0, 1e-12)])
    steps = np.rint((np.asarray(xy, dtype=np.float64).reshape(-1, 2) - [x0, y0]) / span * 65535)
    return np.clip(steps, 0, 65535).astype(np.uint16)


def bounds_of(xy: np.ndarray) -> tuple[float, float, float, float]:
    """A square box around the points with a 2% margin, so the map keeps its aspect ratio when drawn."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    if len(xy) == 0:
        return (-1.0, -1.0, 1.0, 1.0)
    low, high = xy.min(axis=0), xy.max(axis=0)
    centre, half = (low + high) / 2, max(float((high - low).max()) / 2, 1e-6) * 1.02
    return (float(centre[0] - half), float(centre[1] - half), float(centre[0] + half), float(centre[1] + half))


def encode_points(track_ids, xy, album_index, tag_index, bounds) -> bytes:
    ids = np.asarray(track_ids, dtype="<u4")
    steps = quantise(xy, bounds).astype("<u2")
    albums = np.minimum(np.asarray(album_index, dtype=np.int64), NO_ALBUM).astype("<u2")
    tags = np.minimum(np.asarray(tag_index, dtype=np.int64), NO_TAG).astype(np.uint8)
    reserved = np.zeros(len(ids), dtype=np.uint8)
    return b"".join(
        column.tobytes() for column in (ids, np.ascontiguousarray(steps[:, 0]), np.ascontiguousarray(steps[:, 1]),
                                         albums, tags, reserved)
    )


def decode_points(data: bytes, bounds) -> dict[str, np.ndarray]:
    """The inverse of `encode_points`, as the browser reads it (used by tests and benchmarks)."""
    n = len(data) // BYTES_PER_POINT
    if len(data) != n * BYTES_PER_POINT:
        raise ValueError(f"A map payload is a whole number of {BYTES_PER_POINT}-byte points; got {len(data)} bytes.")
    x0, y0, x1, y1 = bounds

    def column(dtype, start, count=n):
        return np.frombuffer(data, dtype=dtype, count=count, offset=start)

    sx, sy = column("<u2", 4 * n), column("<u2", 6 * n)
    return {
        "ids": column("<u4", 0),
        "x": x0 + sx / 65535 * (x1 - x0),
        "y": y0 + sy / 65535 * (y1 - y0),
        "album": column("<u2", 8 * n),
        "tag": column(np.uint8, 10 * n),
    }
