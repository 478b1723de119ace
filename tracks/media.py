"""The audio the site keeps in MEDIA_ROOT: deleting a track's stored file, finding files no track uses.

The site stores audio below MEDIA_ROOT in one folder per source (content-addressed names, shared by tracks
with the same audio) and in `audio/` (the model field's own folder). Nothing here ever deletes a file outside
those folders, a symlink, or a file in one of the operator's library roots.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation

from tracks.models import Track, TrackSource
from tracks.roots import is_inside, is_under_library_root, library_root_forms, normalised

log = logging.getLogger(__name__)

AUDIO_FOLDERS = ["audio", *TrackSource.values]


def _storage():
    return Track._meta.get_field("audio_file").storage


def _media_root() -> str:
    return normalised(settings.MEDIA_ROOT)


def _deletable(path: str, library_forms: list[str]) -> bool:
    """A regular file (not a link) inside one of MEDIA_ROOT's audio folders and in no library root."""
    root = _media_root()
    clean = normalised(path)
    in_audio_folder = any(
        is_inside(clean, os.path.join(root, folder)) and clean != os.path.join(root, folder)
        for folder in AUDIO_FOLDERS
    )
    return (
        in_audio_folder
        and os.path.isfile(clean)
        and not os.path.islink(clean)
        and not is_under_library_root(clean, library_forms)
    )


def delete_stored_audio(name: str) -> bool:
    """Delete the stored file `name` (an audio_file name) unless a track still plays it; True if deleted."""
    if not name or Track.objects.filter(audio_file=name).exists():
        return False
    try:
        path = _storage().path(name)
    except SuspiciousFileOperation:
        log.warning("Not deleting %r: it does not lie inside MEDIA_ROOT.", name)
        return False
    if not _deletable(path, library_root_forms()):
        return False
    try:
        os.remove(path)
    except OSError as error:
        log.warning("Could not delete %s, whose track was deleted: %s", path, error)
        return False
    return True


@dataclass(frozen=True)
class StoredFile:
    name: str  # relative to MEDIA_ROOT, with forward slashes, as audio_file stores it
    path: str
    size: int


def unreferenced_media_files(min_age_s: float = 0.0) -> list[StoredFile]:
    """Files in MEDIA_ROOT's audio folders that no track references, older than `min_age_s` seconds.

    Young files are left alone: an ingest may have stored one and not yet committed the track that plays it.
    Hidden files, symlinks (files or folders) and anything in a library root are never listed.
    """
    root = _media_root()
    names = Track.objects.exclude(audio_file="").values_list("audio_file", flat=True)
    referenced = {os.path.normpath(name) for name in names}
    newest = time.time() - min_age_s
    library_forms = library_root_forms()
    found = []
    for folder in AUDIO_FOLDERS:
        top = os.path.join(root, folder)
        if os.path.islink(top) or not os.path.isdir(top):
            continue
        for parent, subfolders, files in os.walk(top, followlinks=False):
            subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
            for file_name in sorted(files):
                path = os.path.join(parent, file_name)
                if file_name.startswith(".") or not _deletable(path, library_forms):
                    continue
                name = os.path.relpath(path, root).replace(os.sep, "/")
                if os.path.normpath(name) in referenced:
                    continue
                stat = os.lstat(path)
                if stat.st_mtime > newest:
                    continue
                found.append(StoredFile(name=name, path=path, size=stat.st_size))
    return found


def remove_empty_folders() -> int:
    """Remove empty folders below MEDIA_ROOT's audio folders (the audio folders themselves stay)."""
    root = _media_root()
    library_forms = library_root_forms()
    removed = 0
    for folder in AUDIO_FOLDERS:
        top = os.path.join(root, folder)
        if os.path.islink(top) or not os.path.isdir(top):
            continue
        for parent, _subfolders, _files in os.walk(top, topdown=False, followlinks=False):
            if parent == top or os.path.islink(parent) or is_under_library_root(parent, library_forms):
                continue
            try:
                os.rmdir(parent)  # only succeeds when empty
            except OSError:
                continue
            removed += 1
    return removed
