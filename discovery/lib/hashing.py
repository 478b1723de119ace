"""Content checksums: one chunked SHA-256 reader for audio files and model checkpoints alike."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

CHUNK_BYTES = 1 << 20


def files_sha256(paths: Iterable[Path | str]) -> str:
    """One SHA-256 over the bytes of `paths`, in the given order (a checkpoint is often a set of files)."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
                digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: Path | str) -> str:
    """The SHA-256 of one file's bytes, as 64 lower-case hex digits."""
    return files_sha256([path])
