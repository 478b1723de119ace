import math

import pytest
from django.db import IntegrityError, transaction

from taste.stations.models import Station, StationSeed, Thumb
from tracks.models import Track


@pytest.fixture
def track(db):
    return Track.objects.create(title="Battle", source=Track.Source.FOLDER, source_key="battle.ogg")


@pytest.mark.django_db
class TestStationConstraints:
    @pytest.mark.parametrize("knob", ["breadth", "explore"])
    @pytest.mark.parametrize("value", [-0.01, 1.01, math.nan])
    def test_it_rejects_a_knob_outside_the_unit_interval(self, owner, knob, value):
        with pytest.raises(IntegrityError, match=f"station_{knob}_in_unit_interval"), transaction.atomic():
            Station.objects.create(owner=owner, name="Late night", **{knob: value})

    @pytest.mark.parametrize("value", [0.0, 1.0])
    def test_it_accepts_the_ends_of_the_interval(self, owner, value):
        station = Station.objects.create(owner=owner, name="Edges", breadth=value, explore=value)
        station.refresh_from_db()
        assert (station.breadth, station.explore) == (value, value)

    def test_seeds_keep_their_order(self, owner):
        tracks = [Track.objects.create(title=f"T{i}", source="folder", source_key=f"{i}.ogg") for i in range(3)]
        station = Station.objects.create(owner=owner, name="Ordered")
        for position, track in zip([2, 0, 1], tracks):
            StationSeed.objects.create(station=station, track=track, position=position)
        assert station.ordered_seeds() == [tracks[1], tracks[2], tracks[0]]

    def test_a_track_is_a_seed_of_a_station_once(self, owner, track):
        station = Station.objects.create(owner=owner, name="Once")
        StationSeed.objects.create(station=station, track=track, position=0)
        with pytest.raises(IntegrityError, match="station_seed_unique_track"):
            StationSeed.objects.create(station=station, track=track, position=1)

    def test_seed_positions_can_be_swapped_in_one_transaction(self, owner):
        first, second = (Track.objects.create(title=t, source="folder", source_key=t) for t in ("a", "b"))
        station = Station.objects.create(owner=owner, name="Swap")
        a = StationSeed.objects.create(station=station, track=first, position=0)
        b = StationSeed.objects.create(station=station, track=second, position=1)
        with transaction.atomic():
            StationSeed.objects.filter(pk=a.pk).update(position=1)
            StationSeed.objects.filter(pk=b.pk).update(position=0)
        assert station.ordered_seeds() == [second, first]


@pytest.mark.django_db
class TestThumbConstraints:
    def test_one_thumb_per_user_station_and_track(self, owner, track):
        station = Station.objects.create(owner=owner, name="Thumbs")
        Thumb.objects.create(user=owner, station=station, track=track, value=Thumb.UP)
        with pytest.raises(IntegrityError, match="thumb_unique_per_station_track"):
            Thumb.objects.create(user=owner, station=station, track=track, value=Thumb.DOWN)

    def test_a_thumb_is_up_or_down(self, owner, track):
        station = Station.objects.create(owner=owner, name="Thumbs")
        with pytest.raises(IntegrityError, match="thumb_value_up_or_down"):
            Thumb.objects.create(user=owner, station=station, track=track, value=2)
