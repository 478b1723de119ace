import pytest

from taste.stations.models import Thumb
from taste.stations.services import create_station, set_thumb
from tests.catalogue import make_catalogue


@pytest.fixture
def station(db, owner):
    _, clusters = make_catalogue(clusters=2, per_cluster=4)
    return create_station(owner, [clusters[0][0].pk]), clusters[1]


def test_set_thumb_says_which_thumb_it_replaced(station):
    station, tracks = station
    track = tracks[0].pk
    assert set_thumb(station, track, "up") is None
    assert set_thumb(station, track, "up") == "up"
    assert set_thumb(station, track, "down") == "up"
    assert Thumb.objects.get(track_id=track).value == Thumb.DOWN
    assert set_thumb(station, track, "clear") == "down"
    assert set_thumb(station, track, "clear") is None and not Thumb.objects.exists()


def test_a_thumb_touches_the_station(station):
    station, tracks = station
    before = type(station).objects.get(pk=station.pk).updated
    set_thumb(station, tracks[1].pk, "down")
    assert type(station).objects.get(pk=station.pk).updated > before


def test_a_hidden_track_is_refused_and_nothing_changes(station):
    from discovery.lib.forms import ListenerError
    from tracks.models import Track

    station, tracks = station
    set_thumb(station, tracks[2].pk, "up")
    Track.objects.filter(pk=tracks[2].pk).update(hidden=True)
    before = type(station).objects.get(pk=station.pk).updated
    for value in ("down", "clear"):
        with pytest.raises(ListenerError, match="There is no track"):
            set_thumb(station, tracks[2].pk, value)
    assert Thumb.objects.get(track_id=tracks[2].pk).value == Thumb.UP
    assert type(station).objects.get(pk=station.pk).updated == before
