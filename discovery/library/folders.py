"""Which folders the site may scan: MUSIC_DIRS and the folders inside them, nothing else.

A staff member types a path; the server would read every file below it. So the path is resolved the way the
server would follow it (`..`, `.` and symlinks included, with os.path.realpath) and must then lie inside one of
the resolved MUSIC_DIRS on a path-component boundary (tracks.roots.is_inside: `/music2` is not inside
`/music`). The check comes before any question about the path's existence, so the answer never says whether
a folder outside the roots exists.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from discovery.lib.forms import ListenerError
from tracks.roots import is_inside

NO_MUSIC_DIRS = (
    "This site was given no music folders to scan. Set MUSIC_DIRS to the folders on the server that hold "
    "music (absolute paths separated by “:”, e.g. MUSIC_DIRS=/srv/music:/home/ada/Music) and start the site "
    "and the worker again."
)


def music_dirs() -> list[Path]:
    """MUSIC_DIRS as the server reaches them: resolved, each once, in the order given."""
    resolved = [os.path.realpath(os.fspath(path)) for path in getattr(settings, "MUSIC_DIRS", [])]
    return [Path(path) for path in dict.fromkeys(resolved)]


def outside_message(roots: list[Path]) -> str:
    listed = ", ".join(str(root) for root in roots)
    return f"Only folders inside the music folders this site was given (MUSIC_DIRS) can be scanned: {listed}."


def inside_music_dirs(path: str | os.PathLike, roots: list[Path] | None = None) -> bool:
    """Whether `path`, resolved, is one of MUSIC_DIRS or lies below one. Also asked again when a job runs,
    since MUSIC_DIRS may have changed since the job was queued."""
    text = os.fspath(path)
    if "\x00" in text or not os.path.isabs(text):
        return False
    real = os.path.realpath(text)
    return any(is_inside(real, str(root)) for root in (music_dirs() if roots is None else roots))


def music_folder(text: str) -> Path:
    """The folder `text` names, resolved, if the site may scan it; ListenerError with the reason otherwise."""
    roots = music_dirs()
    if not roots:
        raise ListenerError(NO_MUSIC_DIRS)
    if not os.path.isabs(text):
        raise ListenerError(f"Give the folder's full path, starting with “/”, e.g. {roots[0]}.")
    if not inside_music_dirs(text, roots):
        raise ListenerError(outside_message(roots))
    real = Path(os.path.realpath(text))
    if not real.is_dir():
        raise ListenerError(f"There is no folder {text} on the server.")
    return real
