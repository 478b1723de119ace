"""/path/, /path.json and /path.m3u: the route between two tracks, playable, exportable and checked."""

import pytest

from taste.stations.models import Station
from tests.atlas.helpers import add_tracks, map_model
from tracks.models import Track

pytestmark = pytest.mark.django_db


@pytest.fixture
def ids():
    model = map_model()
    return add_tracks(model, 80, clusters=4)


def test_the_json_runs_from_the_first_track_to_the_last_without_repeats(owner_client, ids):
    answer = owner_client.get(f"/path.json?from={ids[0]}&to={ids[1]}&steps=8").json()
    tracks = answer["tracks"]
    assert tracks[0] == ids[0] and tracks[-1] == ids[1] and 3 <= len(tracks) <= 8
    assert len(set(tracks)) == len(tracks)


def test_at_most_n_per_artist_and_avoided_tracks_stay_off(owner_client, ids):
    first = owner_client.get(f"/path.json?from={ids[0]}&to={ids[2]}&steps=12&per_artist=1").json()["tracks"]
    artists = [Track.objects.get(pk=pk).artist for pk in first]
    assert len(artists) == len(set(artists))
    avoid = ",".join(map(str, first[1:-1]))
    second = owner_client.get(f"/path.json?from={ids[0]}&to={ids[2]}&steps=12&avoid={avoid}").json()["tracks"]
    assert not set(second[1:-1]) & set(first[1:-1])


def test_the_page_lists_play_buttons_a_station_form_and_exports(owner_client, ids):
    response = owner_client.get(f"/path/?from={ids[0]}&to={ids[1]}&steps=6")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("data-play ") >= 3 and "data-playlist" in body
    assert "Start a station from this path" in body and "/path.m3u?" in body


def test_the_station_form_seeds_a_station_with_the_path(owner_client, owner, ids):
    path = owner_client.get(f"/path.json?from={ids[0]}&to={ids[1]}&steps=6").json()["tracks"]
    owner_client.post("/stations/", {"seed": path, "name": "Path"})
    assert list(Station.objects.get(owner=owner).seed_links.values_list("track_id", flat=True)) == path


def test_the_m3u_lists_the_path_with_signed_links(owner_client, ids):
    response = owner_client.get(f"/path.m3u?from={ids[0]}&to={ids[1]}&steps=5")
    lines = response.content.decode().splitlines()
    assert lines[0] == "#EXTM3U" and "attachment" in response["Content-Disposition"]
    assert all("/stream/" in line for line in lines[2::2])


@pytest.mark.parametrize(
    "query, sentence",
    [
        ("to=1", "starts from"),
        ("from=x&to=1", "is not a track id"),
        ("from=1&to=1", "two different tracks"),
        ("from=1&to=2&steps=1", "from 2 to 50"),
        ("from=1&to=2&steps=NaN", "from 2 to 50"),
        ("from=1&to=2&per_artist=0", "from 1 to 10"),
        ("from=999999&to=2", "cannot be on a path"),
    ],
)
def test_bad_requests_get_a_400_with_a_sentence(owner_client, ids, query, sentence):
    response = owner_client.get(f"/path.json?{query}")
    assert response.status_code == 400 and sentence in response.content.decode()


def test_a_hidden_end_cannot_be_on_a_path(owner_client, ids):
    Track.objects.filter(pk=ids[1]).update(hidden=True)
    assert owner_client.get(f"/path.json?from={ids[0]}&to={ids[1]}").status_code == 400


def test_the_empty_page_offers_the_form(owner_client, ids):
    assert b"Find the path" in owner_client.get("/path/").content
