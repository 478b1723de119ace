import pytest
from django.urls import reverse

from taste.stations.models import Thumb
from taste.stations.services import create_station, set_thumb
from tests.catalogue import make_catalogue
from tracks.models import Track


@pytest.fixture
def setup(db, owner):
    _, clusters = make_catalogue()
    station = create_station(owner, [clusters[0][0].pk])
    return station, clusters


@pytest.mark.django_db
class TestSeeds:
    def post(self, client, station, track, action="add"):
        return client.post(reverse("station_seeds", args=[station.pk]), {"track": track.pk, "action": action},
                           HTTP_HX_REQUEST="true")

    def test_a_seed_can_be_added_and_removed(self, owner_client, setup):
        station, clusters = setup
        response = self.post(owner_client, station, clusters[1][0])
        assert response.status_code == 200
        assert [t.pk for t in station.ordered_seeds()] == [clusters[0][0].pk, clusters[1][0].pk]
        self.post(owner_client, station, clusters[0][0], action="remove")
        assert [t.pk for t in station.ordered_seeds()] == [clusters[1][0].pk]

    def test_the_last_seed_cannot_be_removed(self, owner_client, setup):
        station, clusters = setup
        response = self.post(owner_client, station, clusters[0][0], action="remove")
        assert response.status_code == 400 and "at least one seed" in response.content.decode()

    @pytest.mark.parametrize("action", ["delete", "REMOVE", "x" * 10_000])
    def test_an_unknown_action_is_a_400_and_changes_nothing(self, owner_client, setup, action):
        station, clusters = setup
        response = self.post(owner_client, station, clusters[1][0], action=action)
        assert response.status_code == 400 and "either added or removed" in response.content.decode()
        assert [t.pk for t in station.ordered_seeds()] == [clusters[0][0].pk]

    def test_a_thumbed_track_that_becomes_a_seed_loses_its_thumb(self, owner_client, setup):
        station, clusters = setup
        set_thumb(station, clusters[1][1].pk, "up")
        self.post(owner_client, station, clusters[1][1])
        assert not Thumb.objects.exists()


@pytest.mark.django_db
class TestTrackPageAndLiked:
    def test_the_track_page_offers_more_like_this(self, owner_client, setup):
        _, clusters = setup
        track = clusters[2][0]
        page = owner_client.get(reverse("track_detail", args=[track.pk])).content.decode()
        assert "More like this" in page and f'name="seed" value="{track.pk}"' in page
        response = owner_client.post(reverse("station_list"), {"seed": track.pk})
        assert response.status_code == 302
        assert owner_client.get(response["Location"]).context["station"].name == f"More like {track.title}"

    def test_a_re_releases_page_points_to_the_canonical_track(self, owner_client, setup):
        _, clusters = setup
        original, copy = clusters[2][0], clusters[2][1]
        Track.objects.filter(pk=copy.pk).update(duplicate_of=original)
        page = owner_client.get(reverse("track_detail", args=[copy.pk])).content.decode()
        assert "A re-release of" in page and f'href="/tracks/{original.pk}/"' in page
        assert f'name="seed" value="{copy.pk}"' not in page  # no station from a copy

    def test_the_liked_page_lists_ones_own_thumbs_up(self, client, owner, outsider, setup):
        station, clusters = setup
        set_thumb(station, clusters[1][2].pk, "up")
        set_thumb(station, clusters[1][3].pk, "down")
        client.force_login(owner)
        page = client.get(reverse("liked_tracks")).content.decode()
        assert clusters[1][2].title in page and clusters[1][3].title not in page
        client.force_login(outsider)
        assert clusters[1][2].title not in client.get(reverse("liked_tracks")).content.decode()


@pytest.mark.django_db
def test_a_result_can_become_a_seed_from_the_station_page(owner_client, setup):
    station, clusters = setup
    page = owner_client.get(reverse("station_detail", args=[station.pk]))
    first = page.context["recommendations"][0].track
    assert f'aria-label="Make it a seed: {first.title}"' in page.content.decode()
    response = owner_client.post(
        reverse("station_seeds", args=[station.pk]), {"track": first.pk, "action": "add"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and first.pk in [t.pk for t in station.ordered_seeds()]
    assert first.pk not in [r.track.pk for r in response.context["recommendations"]]
