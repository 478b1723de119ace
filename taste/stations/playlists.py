"""The current list of a station as a playlist file other players open."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from xml.sax.saxutils import escape as xml_escape

from tracks.audio_links import audio_link_path
from tracks.models import Track

# Characters XML 1.0 cannot hold at all, even escaped: C0 controls but tab and line breaks, and U+FFFE/U+FFFF.
# Tags read from files can carry them; the playlist must still parse.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")


def _line(text: str) -> str:
    # A line break inside a title would start a new entry in an M3U file; other controls confuse players.
    return " ".join(_CONTROL.sub(" ", text).split())


def escape(text: str) -> str:
    """`text` as XML character data: escaped, and without the characters XML cannot hold."""
    return xml_escape(_NOT_XML.sub("", text))


def signed_audio_url(track: Track, user_id: int, absolute: Callable[[str], str]) -> str:
    """Where another player fetches `track`'s audio: a signed, expiring link issued to `user_id`.

    A track with only a remote preview keeps that preview's own URL, which needs no signing. `absolute`
    turns a path into a full URL (the request's `build_absolute_uri`), since a playlist file has no base.
    """
    if track.preview_url and track.local_audio_path is None:
        return track.preview_url
    return absolute(audio_link_path(track.pk, user_id))


def m3u(tracks: Iterable[Track], audio_url: Callable[[Track], str]) -> str:
    lines = ["#EXTM3U"]
    for track in tracks:
        seconds = round(track.duration_s) if track.duration_s else -1
        name = f"{track.artist} - {track.title}" if track.artist else track.title
        lines += [f"#EXTINF:{seconds},{_line(name)}", audio_url(track)]
    return "\n".join(lines) + "\n"


def xspf(title: str, tracks: Iterable[Track], audio_url: Callable[[Track], str]) -> str:
    entries = []
    for track in tracks:
        fields = [f"<location>{escape(audio_url(track))}</location>", f"<title>{escape(track.title)}</title>"]
        if track.artist:
            fields.append(f"<creator>{escape(track.artist)}</creator>")
        if track.album:
            fields.append(f"<album>{escape(track.album)}</album>")
        if track.duration_s:
            fields.append(f"<duration>{round(track.duration_s * 1000)}</duration>")
        if track.artwork_url:
            fields.append(f"<image>{escape(track.artwork_url)}</image>")
        entries.append("    <track>" + "".join(fields) + "</track>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<playlist version="1" xmlns="http://xspf.org/ns/0/">\n'
        f"  <title>{escape(title)}</title>\n"
        "  <trackList>\n" + "\n".join(entries) + ("\n" if entries else "") + "  </trackList>\n</playlist>\n"
    )
