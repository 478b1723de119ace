"""Getting tracks into the catalogue: from a folder, from an upload, from a downloaded preview.

All sources end in `save_audio_track`, so metadata, checksums, exact-duplicate detection and the track's
state follow one set of rules. Decoding problems are recorded on the track (status "failed" with a reason)
and never stop a batch.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.core.files import File
from django.db import transaction

from discovery.lib.hashing import file_sha256
from tracks.artwork import attach_found_artwork
from tracks.audio import AudioDecodeError, AudioInfo, probe
from tracks.audio_tags import title_from_name
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
    links: list[tuple[str, str]] = field(default_factory=list)  # symbolic links not followed: (link, why)

    @property
    def new_or_changed(self) -> list[Track]:
        return self.added + self.updated

    def count(self, track: Track, outcome: str, label: str) -> None:
        if outcome == "added":
            self.added.append(track)
        elif outcome == "updated":
            self.updated.append(track)
        elif outcome == "unchanged" and track.status != Track.Status.FAILED:
            self.unchanged += 1
        else:  # failed now, or before (on reading or embedding) and the file has not changed since
            self.failed.append((label, track.error))

    def summary(self) -> str:
        parts = [
            f"{len(self.added)} added",
            f"{len(self.updated)} updated",
            f"{self.unchanged} unchanged",
            f"{len(self.failed)} failed",
            f"{len(self.skipped)} skipped (not audio)",
        ]
        if self.links:
            parts.append(f"{len(self.links)} link(s) skipped")
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


def file_label(track: Track) -> str:
    """The track's file as the person who added it knows it, for the messages about it: the path in their
    folder, the name they uploaded it under, or the iTunes song it is the preview of."""
    if track.source == Track.Source.FOLDER:
        return track.source_key
    if track.source == Track.Source.ITUNES:
        return f"{track} (iTunes preview)"
    if track.audio_file:
        return PurePosixPath(track.audio_file.name).name
    return track.title or track.source_key


def save_audio_track(
    path: Path,
    *,
    source: str,
    source_key: str,
    copy_into_storage: bool,
    metadata: dict | None = None,
    fallbacks: dict | None = None,
    sha256: str | None = None,
    reread: bool = False,
) -> tuple[Track, str]:
    """Create or refresh the track for the audio file at `path`; returns (track, outcome).

    outcome is "added", "updated" (new content), "unchanged" or "failed" (the file is not usable audio; the
    track records why). `metadata` (title, artist, ...) wins over the file's own tags where given;
    `fallbacks` fill in only what the tags leave empty. `sha256`: the file's checksum, if the caller has it.

    A file whose content is what the track already holds is "unchanged" and its row is left exactly as it is,
    whatever its state: a track that failed, on reading or on embedding, keeps its reason until the file
    changes (`reread` reads it again all the same).
    """
    sha256 = sha256 or file_sha256(path)
    existing = Track.objects.filter(source=source, source_key=source_key).first()
    if (
        existing is not None
        and not reread
        and existing.content_sha256 == sha256
        and _kept_as_asked(existing, path, copy_into_storage)
    ):
        return existing, "unchanged"

    track = existing or Track(source=source, source_key=source_key)
    metadata = metadata or {}
    try:
        info = probe(path, name=_label_before_saving(track, path, metadata))
    except AudioDecodeError as error:
        for name, value in metadata.items():
            if value not in (None, ""):
                setattr(track, name, value)
        track.title = track.title or title_from_name(path)
        track.content_sha256 = sha256
        track.status, track.error = Track.Status.FAILED, str(error)
        with transaction.atomic():
            _keep_file(track, path, copy_into_storage, sha256, failed=True)
            track.save()
        return track, "failed"

    for name, value in _metadata(info, metadata, fallbacks or {}).items():
        setattr(track, name, value)
    track.content_sha256 = sha256
    track.status, track.error = Track.Status.PENDING, ""
    with transaction.atomic():
        _keep_file(track, path, copy_into_storage, sha256)
        attach_found_artwork(track, path)
        track.save()
        link_exact_duplicates(track)
    return track, "updated" if existing is not None else "added"


def _label_before_saving(track: Track, path: Path, metadata: dict) -> str:
    if track.source == Track.Source.UPLOAD:
        return path.name  # stored under that name, so file_label() says the same later
    if track.source == Track.Source.ITUNES:
        title, artist = metadata.get("title") or track.title, metadata.get("artist") or track.artist
        return file_label(Track(source=track.source, title=title, artist=artist))
    return file_label(track)


def _kept_as_asked(track: Track, path: Path, copy_into_storage: bool) -> bool:
    if copy_into_storage:
        return bool(track.audio_file) or track.status == Track.Status.FAILED  # see _keep_file
    return track.audio_path == str(path)


def _keep_file(track: Track, path: Path, copy_into_storage: bool, sha256: str, failed: bool = False) -> None:
    """Point the track at its audio. A failed file is never copied into media storage (nothing the site cannot
    play is stored); a folder's failed file keeps its path, so that retrying reads it again."""
    if not copy_into_storage:
        track.audio_path = str(path)
    elif not failed:
        _store_copy(track, path, sha256)
    elif track.audio_file:  # the stored copy is of the content before the file changed
        storage, old_name = track.audio_file.storage, track.audio_file.name
        transaction.on_commit(lambda: _delete_unreferenced(storage, old_name))
        track.audio_file.name = ""


def _store_copy(track: Track, path: Path, sha256: str) -> None:
    # Content-addressed names: the same audio uploaded twice is stored once, and names never collide. An
    # upload keeps the name it came with (in a folder of its checksum), which is how its messages name it.
    if track.source == Track.Source.UPLOAD:
        name = f"{track.source}/{sha256[:2]}/{sha256}/{path.name}"
    else:
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


@dataclass
class FolderScan:
    files: list[Path] = field(default_factory=list)  # every file that might be audio, in a stable order
    links: list[tuple[str, str]] = field(default_factory=list)  # links not followed: (link, why)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # folders that could not be listed


def scan_folder(root: Path) -> FolderScan:
    """Every file below `root` that might be audio; hidden files and folders skipped.

    Symbolic links are followed, to files and to folders outside `root`, so music linked in from another disk
    is read. A link that leads nowhere (its target is gone), in a circle (a symlink loop), or back into `root`
    (whose files are read anyway) is not followed, and the scan says which and why.
    """
    scan = FolderScan()
    root_stat = root.stat()
    read: dict[tuple[int, int], Path] = {(root_stat.st_dev, root_stat.st_ino): root}

    def visit(folder: Path, above: frozenset[tuple[int, int]]) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as error:
            scan.unreadable.append((str(folder), f"“{folder}” could not be read: {error.strerror or error}."))
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            if entry.is_symlink():
                why = _unfollowable_link(path, root)
                if why:
                    scan.links.append((str(path), why))
                    continue
            try:
                is_folder = entry.is_dir()
                is_file = not is_folder and entry.is_file()
            except OSError:
                continue
            if is_folder:
                stat = path.stat()
                key = (stat.st_dev, stat.st_ino)
                if key in above:
                    why = f"it is a symlink loop: it leads back to {read[key]}, which holds it"
                    scan.links.append((str(path), why))
                elif key in read:
                    scan.links.append((str(path), f"it leads to {read[key]}, which was read already"))
                else:
                    read[key] = path
                    visit(path, above | {key})
            elif is_file and path.suffix.lower() not in NEVER_AUDIO_EXTENSIONS:
                scan.files.append(path)

    visit(root, frozenset(read))
    return scan


def _unfollowable_link(link: Path, root: Path) -> str | None:
    """Why the symbolic link `link` is not followed, or None when it is."""
    target = os.readlink(link)
    try:
        resolved = link.resolve(strict=True)
    except FileNotFoundError:
        return f"it is a dangling link: it points to {target}, which does not exist"
    except RuntimeError:  # Python's own loop detection
        return f"it is a symlink loop: {target} leads back to itself"
    except OSError as error:
        if error.errno == errno.ELOOP:
            return f"it is a symlink loop: {target} leads back to itself"
        return f"it cannot be followed: {error.strerror or error}"
    if resolved.is_dir() and resolved.is_relative_to(root):
        if link.parent.resolve().is_relative_to(resolved):
            return f"it is a symlink loop: it leads back to {resolved}, which holds it"
        return f"it leads to {resolved}, which is read anyway as part of {root}"
    return None


def audio_files_under(root: Path) -> list[Path]:
    """Every file below `root` that might be audio, in a stable order (see scan_folder)."""
    return scan_folder(root).files


def ingest_folder(
    root: Path, *, copy: bool = False, progress: Callable[[Iterable[Path]], Iterable[Path]] = iter
) -> IngestReport:
    """Add every audio file below `root` (idempotent: a second run adds nothing, changed files are updated).

    A file whose content has not changed leaves its track's row exactly as it is; one whose track failed (on
    reading or on embedding) is reported failed again with the reason it keeps. Links that cannot be followed
    are in `report.links` with why (see scan_folder). Files stay where they are unless `copy`; `progress`
    wraps the file iteration (e.g. tqdm). Nothing here queues embedding: the caller does (tracks knows nothing
    of vectors).
    """
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is not a folder.")
    record_library_root(root)  # the operator chose this folder: the site may play audio from it
    report = IngestReport()
    scan = scan_folder(root)
    report.links.extend(scan.links)
    report.failed.extend(scan.unreadable)
    seen: set[str] = set()
    for path in progress(scan.files):
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
            report.failed.append((source_key, f"“{source_key}” could not be read: {error.strerror or error}."))
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


_BROWSER_ESCAPES = re.compile(r"%(22|0d|0a)", re.IGNORECASE)
MAX_UPLOAD_NAME = 150


def upload_name(name: str) -> str:
    """The name a file was uploaded under, as its owner knows it, fit to store a file under.

    Browsers send `"`, CR and LF in an uploaded file's name as %22, %0D and %0A (the HTML standard's
    multipart/form-data encoding); those come back as the quote and a space. Folders, control characters and
    leading dots go; a very long name keeps its start and its extension.
    """
    name = _BROWSER_ESCAPES.sub(lambda match: '"' if match.group(1) == "22" else " ", name)
    name = PurePosixPath(name.replace("\\", "/")).name
    name = "".join(char if char.isprintable() else " " for char in unicodedata.normalize("NFC", name))
    name = " ".join(name.split()).lstrip(". ")
    suffix = PurePosixPath(name).suffix if len(PurePosixPath(name).suffix) <= 10 else ""
    if len(name) > MAX_UPLOAD_NAME:
        name = name[: MAX_UPLOAD_NAME - len(suffix)].rstrip() + suffix
    return name if PurePosixPath(name).stem else f"upload{suffix}"


def ingest_upload(uploaded_file, fallbacks: dict | None = None) -> tuple[Track, str]:
    """A file a curator uploaded in the admin: kept in media storage, identified by its checksum."""
    with tempfile.TemporaryDirectory(prefix="wavelength-upload-") as folder:
        # Keep the uploaded name, so a file without tags is titled after it and messages name it so.
        path = Path(folder) / upload_name(uploaded_file.name or "")
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
