"""Playlist files stay well-formed whatever the tags hold."""

import xml.etree.ElementTree as ElementTree

from taste.stations.playlists import m3u, xspf
from tracks.models import Track

AWKWARD = "Line\nbreak\x00nul\x1bescape\ufffe & <tag>"


def tracks():
    return [
        Track(pk=1, title=AWKWARD, artist="A\rB", album="C\x07D", duration_s=61.4),
        Track(pk=2, title="Plain", duration_s=None),
    ]


def audio_url(track):
    return f"http://127.0.0.1/tracks/{track.pk}/audio/?a=1&b=2"


def test_xspf_parses_even_with_control_characters_in_the_tags():
    root = ElementTree.fromstring(xspf("Evening\x01", tracks(), audio_url).encode())
    namespace = {"x": "http://xspf.org/ns/0/"}
    titles = [element.text for element in root.findall(".//x:track/x:title", namespace)]
    assert titles == ["Line\nbreaknulescape & <tag>", "Plain"]
    assert root.find("x:title", namespace).text == "Evening"
    assert root.find(".//x:location", namespace).text.endswith("?a=1&b=2")


def test_m3u_has_one_entry_per_track_whatever_the_title():
    lines = m3u(tracks(), audio_url).splitlines()
    assert lines[0] == "#EXTM3U"
    assert lines[1] == "#EXTINF:61,A B - Line break nul escape\ufffe & <tag>"
    assert lines[2] == audio_url(tracks()[0])
    assert lines[3] == "#EXTINF:-1,Plain" and len(lines) == 5
