"""Tracks with awkward artist and album tags for the artist and album pages' tests."""

from __future__ import annotations

import itertools

from tracks.models import Track

_keys = itertools.count()


def add_track(title: str, artist: str = "", album: str = "", *, folder: str | None = "/music/misc", **fields) -> Track:
    """A ready track; from a file in `folder` (named after the title), or an iTunes preview when folder is None."""
    number = next(_keys)
    if folder is None:
        fields.setdefault("source", Track.Source.ITUNES)
        fields.setdefault("source_key", f"itunes-{number}")
        fields.setdefault("preview_url", f"https://audio.example/{number}.m4a")
    else:
        fields.setdefault("source", Track.Source.FOLDER)
        fields.setdefault("source_key", f"{folder}/{title}.flac")
        fields.setdefault("audio_path", fields["source_key"])  # never read: these pages only link to it
    fields.setdefault("status", Track.Status.READY)
    return Track.objects.create(title=title, artist=artist, album=album, **fields)
