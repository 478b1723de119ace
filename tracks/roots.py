"""Where the audio view may read files from: MEDIA_ROOT and the library roots the operator chose.

A library root is a folder of the operator's music: one named in the MUSIC_DIRS setting, or one given to
`manage.py ingest_folder` (recorded in the database as it is read, since only the operator runs commands).
A track's stored path is checked in its normalised form (absolute, without `.` or doubled separators) against
every root, on a path-component boundary: `/music2/x.ogg` is not inside `/music`. Paths with a `..` component
are refused outright (ingest never writes one, and after a symlinked folder `..` leads somewhere else than it
reads). The file is then opened as it is, so a symlink that the operator placed inside a root is followed to
wherever it points: that is the operator's choice.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation

from tracks.models import LibraryRoot, Track

log = logging.getLogger(__name__)


class AudioOutsideRoots(Exception):
    """A track's stored audio lies outside MEDIA_ROOT and every library root: it is never served."""


def normalised(path: str | os.PathLike) -> str:
    return os.path.normpath(os.path.abspath(os.fspath(path)))


def record_library_root(folder: str | os.PathLike) -> LibraryRoot | None:
    """Remember `folder` (which the operator gave to a command) as a library root; idempotent.

    A folder inside MUSIC_DIRS is not recorded: MUSIC_DIRS already covers it, for as long as the operator
    keeps it there. So scans that staff start from the site, which may only read folders inside MUSIC_DIRS,
    never add a root of their own. Returns the root, or None when MUSIC_DIRS covers the folder.
    """
    path = normalised(folder)
    if any(is_inside(path, form) for root in music_dirs() for form in _forms(root)):
        return None
    root, _ = LibraryRoot.objects.get_or_create(path=path)
    return root


def music_dirs() -> list[str]:
    return list(dict.fromkeys(normalised(path) for path in getattr(settings, "MUSIC_DIRS", [])))


def library_roots() -> list[str]:
    """The operator's music folders: MUSIC_DIRS first, then the folders ingest_folder has read."""
    roots = [*music_dirs(), *(normalised(path) for path in LibraryRoot.objects.values_list("path", flat=True))]
    return list(dict.fromkeys(roots))


def _forms(root: str) -> list[str]:
    # A root may itself be reached through a symlink (MUSIC_DIRS=/music -> /srv/music), and ingest records the
    # resolved folder: either spelling names the same operator-chosen folder.
    return list(dict.fromkeys([root, os.path.realpath(root)]))


def serving_roots() -> list[str]:
    """Every folder the audio view may read from, each in its written and its resolved form."""
    roots = [normalised(settings.MEDIA_ROOT), *library_roots()]
    return list(dict.fromkeys(form for root in roots for form in _forms(root)))


def is_inside(path: str, root: str) -> bool:
    """Whether the normalised `path` is `root` or lies below it, on a path-component boundary."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def is_servable(path: str | os.PathLike, roots: list[str] | None = None) -> bool:
    text = os.fspath(path)
    if not os.path.isabs(text) or ".." in Path(text).parts or "\x00" in text:
        return False
    clean = normalised(text)
    return any(is_inside(clean, root) for root in (serving_roots() if roots is None else roots))


def library_root_forms() -> list[str]:
    """The library roots, each in its written and its resolved form."""
    return list(dict.fromkeys(form for root in library_roots() for form in _forms(root)))


def is_under_library_root(path: str | os.PathLike, forms: list[str] | None = None) -> bool:
    """Whether `path` lies in one of the operator's music folders (whose files the site never deletes)."""
    clean = normalised(path)
    return any(is_inside(clean, form) for form in (library_root_forms() if forms is None else forms))


def audio_path_to_serve(track: Track) -> Path | None:
    """The local file the audio view may send for `track`; None when it has none.

    Raises AudioOutsideRoots, after logging a warning with the track and the path, when the stored path lies
    outside MEDIA_ROOT and every library root.
    """
    try:
        path = track.local_audio_path
    except SuspiciousFileOperation:  # an audio_file name that climbs out of MEDIA_ROOT
        path = track.audio_file.name
    if path is None:
        return None
    if not is_servable(path):
        log.warning("Track %s: refusing to serve %r, which lies outside MEDIA_ROOT and every library root.",
                    track.pk, os.fspath(path))
        raise AudioOutsideRoots(os.fspath(path))
    return Path(path)
