"""Playlist files stay well-formed whatever the tags hold, and other players can play their links."""

import urllib.request
import xml.etree.ElementTree as ElementTree
from datetime import timedelta

import av
import numpy as np
import pytest
from django.urls import reverse

from taste.stations.playlists import m3u, signed_audio_url, xspf
from taste.stations.services import create_station
from tests.catalogue import make_catalogue
from tracks.audio_links import user_id_for_link
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


def absolute(path: str) -> str:
    return f"http://wavelength.example{path}"


@pytest.mark.django_db
class TestSignedAudioUrl:
    def test_a_local_track_gets_a_signed_link_of_its_own(self, owner):
        track = Track.objects.create(title="Here", source="folder", source_key="/m/here.wav", audio_path="/m/here.wav")
        url = signed_audio_url(track, owner.pk, absolute)
        assert url.startswith(f"http://wavelength.example/tracks/{track.pk}/stream/{owner.pk}.")
        assert user_id_for_link(track.pk, url.split("/")[-2]) == owner.pk

    def test_a_remote_preview_keeps_its_own_url(self, owner):
        track = Track(pk=7, title="Far", preview_url="https://audio.example/7.m4a")
        assert signed_audio_url(track, owner.pk, absolute) == "https://audio.example/7.m4a"


def http_get(url: str, session_id: str | None = None) -> bytes:
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={session_id}"} if session_id else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


@pytest.mark.django_db(transaction=True)  # the live server's thread must see the rows
def test_an_outside_player_plays_every_link_of_a_downloaded_m3u(live_server, client, owner, tmp_path):
    _, clusters = make_catalogue(audio_dir=tmp_path)
    station = create_station(owner, [clusters[0][0].pk, clusters[0][1].pk])
    client.force_login(owner)  # the listener downloads the playlist from their signed-in session
    playlist = http_get(f"{live_server.url}/stations/{station.pk}/playlist.m3u", client.cookies["sessionid"].value)
    links = [line for line in playlist.decode().splitlines() if line and not line.startswith("#")]
    assert len(links) == 20 and all(link.startswith(f"{live_server.url}/tracks/") for link in links)

    # The player sends no cookie, so only the link itself lets it in: the session-bound URL sends it to log in.
    with urllib.request.urlopen(f"{live_server.url}/tracks/{clusters[0][2].pk}/audio/", timeout=30) as response:
        assert "/accounts/login/" in response.url
    for link in links:
        with av.open(link, timeout=30) as container:
            frames = list(container.decode(audio=0))
            rate = container.streams.audio[0].rate
        peak = max(np.abs(frame.to_ndarray().astype(np.float32)).max() for frame in frames) / 32768  # 16-bit PCM
        assert abs(sum(frame.samples for frame in frames) / rate - 1.5) < 0.05 and peak > 0.1

    # Seeking makes the player ask for a byte range, as VLC does when you drag the position.
    with av.open(links[0], timeout=30) as container:
        stream = container.streams.audio[0]
        container.seek(int(1.0 / stream.time_base), stream=stream)
        first = next(container.decode(stream))
        assert 0.9 <= float(first.pts * stream.time_base) <= 1.1


@pytest.mark.django_db
def test_the_station_page_says_how_long_the_exported_links_last(owner_client, owner, settings):
    _, clusters = make_catalogue()
    station = create_station(owner, [clusters[0][0].pk])
    settings.PLAYLIST_LINK_LIFETIME = timedelta(days=3)
    page = owner_client.get(reverse("station_detail", args=[station.pk])).content.decode()
    assert "expire in 3 days" in page
    for name in ("station_playlist_m3u", "station_playlist_xspf"):  # downloads, never swapped in by hx-boost
        assert f'href="{reverse(name, args=[station.pk])}" hx-boost="false"' in page
