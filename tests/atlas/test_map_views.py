"""The map's URLs: the page, the payload and its meta, the summary, a point's card, locate, a slider's colours,
a station's overlay and a station from a lasso."""

import numpy as np
import pytest

from discovery.atlas.builder import build_map
from discovery.atlas.payload import BYTES_PER_POINT, decode_points
from embedding.models import TrackEmbedding
from taste.stations.models import Station, Thumb
from taste.stations.services import create_station, set_thumb
from tests.atlas.helpers import add_tracks, map_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def mapped(settings, tmp_path):
    settings.MAP_DIR = tmp_path / "maps"
    model = map_model()
    ids = add_tracks(model, 24)
    build_map()
    return model, ids


def test_the_page_says_when_there_is_no_map_yet(owner_client):
    map_model()
    response = owner_client.get("/map/")
    assert response.status_code == 200 and b"There is no map yet" in response.content


def test_the_page_carries_the_payload_urls_and_the_listeners_stations(owner_client, owner, mapped):
    _, ids = mapped
    station = create_station(owner, ids[:1], "Mine")
    response = owner_client.get("/map/")
    assert b'data-points="/map/points.bin"' in response.content and b"Mine" in response.content
    assert f'value="{station.pk}"'.encode() in response.content


def test_the_payload_is_twelve_bytes_a_point_and_matches_its_meta(owner_client, mapped):
    _, ids = mapped
    meta = owner_client.get("/map/meta.json").json()
    data = owner_client.get("/map/points.bin").content
    assert meta["points"] == len(ids) and len(data) == len(ids) * BYTES_PER_POINT
    points = decode_points(data, meta["bounds"])
    assert sorted(points["ids"].tolist()) == sorted(ids)
    assert {meta["tags"][t] for t in points["tag"]} <= {"style0", "style1", "style2", "style3"}
    assert meta["albums"][points["album"][0]].startswith("Album ")


def test_the_summary_follows_the_contract(owner_client, mapped):
    model, ids = mapped
    summary = owner_client.get("/map/summary.json").json()
    assert summary["model"] == model.name and summary["points"] == len(ids) and summary["built"]


def test_a_hidden_track_drops_out_of_the_payload_and_its_card(owner_client, mapped):
    from tracks.models import Track

    _, ids = mapped
    Track.objects.filter(pk=ids[0]).update(hidden=True)
    assert owner_client.get("/map/meta.json").json()["points"] == len(ids) - 1
    assert owner_client.get(f"/map/tracks/{ids[0]}.json").status_code == 404


def test_a_card_has_what_a_play_button_needs(owner_client, mapped):
    _, ids = mapped
    card = owner_client.get(f"/map/tracks/{ids[3]}.json").json()
    assert card["title"] == "t 3" and card["src"] == f"/tracks/{ids[3]}/audio/" and card["tags"][0] == "style3"


def test_locate_finds_tracks_on_the_map_and_wants_words(owner_client, mapped):
    _, ids = mapped
    found = owner_client.get("/map/locate.json?q=t 17").json()["tracks"]
    assert found == [{"id": ids[17], "title": "t 17", "artist": "Artist 3"}]
    assert owner_client.get("/map/locate.json?q=").status_code == 400


def test_an_unknown_model_has_no_map(owner_client, mapped):
    assert owner_client.get("/map/points.bin?model=nope").status_code == 404
    assert owner_client.get("/map/points.bin?model=no%20pe").status_code == 400


def test_a_lasso_makes_a_station_of_at_most_ten_spanning_seeds(owner_client, owner, mapped):
    _, ids = mapped
    response = owner_client.post("/map/station/", {"tracks": ",".join(map(str, ids))})
    station = Station.objects.get(owner=owner)
    assert response.status_code == 302 and response["Location"] == f"/stations/{station.pk}/"
    seeds = list(station.seed_links.values_list("track_id", flat=True))
    assert len(seeds) == 10 and set(seeds) <= set(ids)
    assert len({ids.index(s) % 4 for s in seeds}) == 4  # all four clusters are heard


def test_an_empty_or_garbled_lasso_is_a_400_with_a_sentence(owner_client, mapped):
    assert b"Draw a lasso" in owner_client.post("/map/station/", {"tracks": ""}).content
    assert owner_client.post("/map/station/", {"tracks": "1,x"}).status_code == 400


def test_a_station_overlay_lists_seeds_likes_dislikes_and_the_queue(owner_client, owner, mapped):
    _, ids = mapped
    station = create_station(owner, ids[:2])
    set_thumb(station, ids[5], "up")
    set_thumb(station, ids[6], "down")
    overlay = owner_client.get(f"/map/stations/{station.pk}.json").json()
    assert overlay["seeds"] == ids[:2] and overlay["likes"] == [ids[5]] and overlay["dislikes"] == [ids[6]]
    assert overlay["queue"] and not set(overlay["queue"]) & {ids[0], ids[1], ids[6]}
    anchors = {ids[0], ids[1], ids[5]}
    assert overlay["links"] and all(a in anchors and t in overlay["queue"] for a, t in overlay["links"])
    assert Thumb.objects.count() == 2


def test_another_listeners_station_is_404(client, owner, outsider, mapped):
    _, ids = mapped
    station = create_station(owner, ids[:1])
    client.force_login(outsider)
    assert client.get(f"/map/stations/{station.pk}.json").status_code == 404
    assert client.get(f"/map/?station={station.pk}").status_code == 404


def test_a_lit_sliders_colours_follow_its_prediction(owner_client, owner, mapped):
    from taste.sliders.models import Slider

    model, ids = mapped
    coef = np.zeros(8)
    coef[0] = 1.0
    slider = Slider.objects.create(
        owner=owner, name="bright", low_label="dull", high_label="bright", embedding_model=model, lit=True,
        fit={"coef": coef.tolist(), "intercept": 3.0, "prediction_mean": 3.0, "prediction_std": 0.5},
    )
    meta = owner_client.get("/map/meta.json").json()
    order = decode_points(owner_client.get("/map/points.bin").content, meta["bounds"])["ids"].tolist()
    colours = np.frombuffer(owner_client.get(f"/map/sliders/{slider.pk}.bin").content, dtype=np.uint8)
    assert len(colours) == len(order)
    first = {t: float(v[0]) for t, v in TrackEmbedding.objects.filter(model=model).values_list("track_id", "vector")}
    values = [first[t] for t in order]
    assert np.corrcoef(values, colours)[0, 1] > 0.95


def test_the_page_says_which_recommender_chooses_what_plays_next(owner_client, mapped, settings, tmp_path):
    from taste.stations.constellations import recommender_path

    settings.RECOMMENDER_DIR = tmp_path / "recommenders"
    model, _ = mapped
    path = recommender_path(model.name)
    path.parent.mkdir()
    path.write_text('{"beats_centroid": false, "verdict": "The centroid chooses what plays next: it won."}')
    assert b"The centroid chooses what plays next: it won." in owner_client.get("/map/").content
