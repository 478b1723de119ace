"""Getting tracks into the catalogue: from a folder, from an upload, from a downloaded preview.

All sources end in `save_audio_track`, so metadata, checksums, exact-duplicate detection and the track's
state follow one set of rules. Decoding problems are recorded on the track (status "failed" with a reason)
and never stop a batch.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.files import File
from django.db import transaction

from discovery.lib.hashing import file_sha256
from tracks.audio import AudioDecodeError, AudioInfo, probe
from tracks.dedup import link_exact_duplicates
from tracks.models import Track
from tracks.roots import record_library_root

log = logging.getLogger(__name__)

# Extensions that are audio for sure: a file with one of these that will not open is a broken track worth
# showing to a curator. Anything else is probed too, but silently skipped if it holds no audio.
AUDIO_EXTENSIONS = {
    ".aac", ".aif", ".aiff", ".alac", ".ape", ".flac", ".m4a", ".mka", ".mp2", ".mp3", ".mpc", ".oga", ".ogg",
    ".opus", ".spx", ".tta", ".wav", ".weba", ".wma", ".wv",
}
# Companions of music files that are never audio; not even worth opening.
NEVER_AUDIO_EXTENSIONS = {
    ".bmp", ".cue", ".db", ".gif", ".htm", ".html", ".ini", ".jpeg", ".jpg", ".json", ".log", ".m3u", ".m3u8",
    ".md", ".md5", ".nfo", ".pdf", ".pls", ".png", ".sfv", ".txt", ".webp", ".xml", ".csv", ".lrc", ".accurip",
}


@dataclass
class IngestReport:
    added: list[Track] = field(default_factory=list)
    updated: list[Track] = field(default_factory=list)
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file or item, reason)
    skipped: list[str] = field(default_factory=list)  # not audio
    vanished: list[Track] = field(default_factory=list)

    @property
    def new_or_changed(self) -> list[Track]:
        return self.added + self.updated

    def count(self, track: Track, outcome: str, label: str) -> None:
        if outcome == "added":
            self.added.append(track)
        elif outcome == "updated":
            self.updated.append(track)
        elif outcome == "unchanged":
            self.unchanged += 1
        else:
            self.failed.append((label, track.error))

    def summary(self) -> str:
        parts = [
            f"{len(self.added)} added",
            f"{len(self.updated)} updated",
            f"{self.unchanged} unchanged",
            f"{len(self.failed)} failed",
            f"{len(self.skipped)} skipped (not audio)",
        ]
        if self.vanished:
            parts.append(f"{len(self.vanished)} vanished")
        return ", ".join(parts)


def _metadata(info: AudioInfo, overrides: dict, fallbacks: dict) -> dict:
    fields = {
        "title": info.title[:500],
        "artist": info.artist[:500],
        "album": info.album[:500],
        "genre": info.genre[:200],
        "year": info.year if info.year and 0 < info.year < 32768 else None,
        "duration_s": info.duration_s,
    }
    fields.update({key: value for key, value in fallbacks.items() if value and not fields.get(key)})
    fields.update({key: value for key, value in overrides.items() if value not in (None, "")})
    return fields


def save_audio_track(
    path: Path,
    *,
    source: str,
    source_key: str,
    copy_into_storage: bool,
    metadata: dict | None = None,
    fallbacks: dict | None = None,
    sha256: str | None = None,
) -> tuple[Track, str]:
    """Create or refresh the track for the audio file at `path`; returns (track, outcome).

    outcome is "added", "updated" (new content), "unchanged" or "failed" (the file is not usable audio; the
    track records why). `metadata` (title, artist, ...) wins over the file's own tags where given;
    `fallbacks` fill in only what the tags leave empty. `sha256`: the file's checksum, if the caller has it.
    """
    sha256 = sha256 or file_sha256(path)
    existing = Track.objects.filter(source=source, source_key=source_key).first()
    if existing is not None and existing.content_sha256 == sha256 and existing.status != Track.Status.FAILED:
        return existing, "unchanged"

    track = existing or Track(source=source, source_key=source_key)
    try:
        info = probe(path)
    except AudioDecodeError as error:
        track.title = track.title or (metadata or {}).get("title") or path.stem
        track.content_sha256 = sha256
        track.status, track.error = Track.Status.FAILED, str(error)
        track.save()
        return track, "failed"

    for name, value in _metadata(info, metadata or {}, fallbacks or {}).items():
        setattr(track, name, value)
    track.content_sha256 = sha256
    track.status, track.error = Track.Status.PENDING, ""
    with transaction.atomic():
        if copy_into_storage:
            _store_copy(track, path, sha256)
        else:
            track.audio_path = str(path)
        track.save()
        link_exact_duplicates(track)
    return track, "updated" if existing is not None else "added"


def _store_copy(track: Track, path: Path, sha256: str) -> None:
    # Content-addressed names: the same audio uploaded twice is stored once, and names never collide.
    name = f"{track.source}/{sha256[:2]}/{sha256}{path.suffix.lower()}"
    storage = track.audio_file.storage
    if track.audio_file and track.audio_file.name != name:
        old_name = track.audio_file.name
        transaction.on_commit(lambda: _delete_unreferenced(storage, old_name))
    if not storage.exists(name):
        with open(path, "rb") as handle:
            name = storage.save(name, File(handle))
    track.audio_file.name = name


def _delete_unreferenced(storage, name: str) -> None:
    if not Track.objects.filter(audio_file=name).exists():
        storage.delete(name)


def audio_files_under(root: Path) -> list[Path]:
    """Every file below `root` that might be audio, in a stable order; hidden files and folders skipped."""
    found = []
    for folder, subfolders, files in os.walk(root, followlinks=False):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(files):
            path = Path(folder) / name
            if name.startswith(".") or path.suffix.lower() in NEVER_AUDIO_EXTENSIONS or not path.is_file():
                continue
            found.append(path)
    return found


def ingest_folder(
    root: Path, *, copy: bool = False, progress: Callable[[Iterable[Path]], Iterable[Path]] = iter
) -> IngestReport:
    """Add every audio file below `root` (idempotent: a second run adds nothing, changed files are updated).

    Files stay where they are unless `copy`; `progress` wraps the file iteration (e.g. tqdm).
    """
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is not a folder.")
    record_library_root(root)  # the operator chose this folder: the site may play audio from it
    report = IngestReport()
    seen: set[str] = set()
    for path in progress(audio_files_under(root)):
        source_key = str(path)
        seen.add(source_key)
        if path.suffix.lower() not in AUDIO_EXTENSIONS and not _holds_audio(path):
            report.skipped.append(source_key)
            continue
        try:
            track, outcome = save_audio_track(
                path, source=Track.Source.FOLDER, source_key=source_key, copy_into_storage=copy
            )
        except OSError as error:  # unreadable file (permissions, I/O error): say so and go on
            report.failed.append((source_key, f"The file could not be read: {error.strerror or error}."))
            continue
        report.count(track, outcome, source_key)

    prefix = str(root) + os.sep
    for track in Track.objects.filter(source=Track.Source.FOLDER, source_key__startswith=prefix):
        if track.source_key not in seen and not Path(track.source_key).exists():
            report.vanished.append(track)
    return report


def _holds_audio(path: Path) -> bool:
    try:
        probe(path)
    except AudioDecodeError:
        return False
    return True


def ingest_upload(uploaded_file, fallbacks: dict | None = None) -> tuple[Track, str]:
    """A file a curator uploaded in the admin: kept in media storage, identified by its checksum."""
    with tempfile.TemporaryDirectory(prefix="wavelength-upload-") as folder:
        # Keep the uploaded name, so a file without tags is titled after it.
        path = Path(folder) / Path(uploaded_file.name).name
        with open(path, "wb") as handle:
            for chunk in uploaded_file.chunks():
                handle.write(chunk)
        sha256 = file_sha256(path)
        return save_audio_track(
            path,
            source=Track.Source.UPLOAD,
            source_key=sha256,
            copy_into_storage=True,
            fallbacks=fallbacks,
            sha256=sha256,
        )
