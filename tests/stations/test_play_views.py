import re

import pytest
from django.urls import reverse

from taste.stations.listening import record_play
from taste.stations.models import Play, Station
from taste.stations.play_views import HISTORY_PAGE_SIZE
from taste.stations.services import create_station
from tests.catalogue import make_catalogue


@pytest.fixture
def tracks(db):
    _, clusters = make_catalogue(clusters=2, per_cluster=6)
    return clusters


@pytest.fixture
def station(tracks, owner):
    return create_station(owner, [tracks[0][0].pk])


@pytest.fixture
def outsiders_station(tracks, outsider):
    return create_station(outsider, [tracks[1][0].pk])


def play_data(track, station=None, seconds="12.5", ended="skipped") -> dict:
    data = {"track": track.pk, "seconds": seconds, "ended": ended}
    if station is not None:
        data["station"] = station.pk
    return data


@pytest.mark.django_db
class TestRecordingAPlay:
    def test_a_play_is_recorded_and_answered_with_204(self, owner_client, owner, station, tracks):
        response = owner_client.post(reverse("plays"), play_data(tracks[0][2], station))
        assert response.status_code == 204 and response.content == b""
        play = Play.objects.get()
        assert (play.user, play.station, play.track, play.seconds, play.ended) == (
            owner, station, tracks[0][2], 12.5, "skipped"
        )

    def test_a_play_without_a_station_is_recorded_too(self, owner_client, tracks):
        response = owner_client.post(reverse("plays"), play_data(tracks[1][3], ended="finished", seconds="201"))
        assert response.status_code == 204 and Play.objects.get().station is None

    def test_htmx_gets_the_stations_listening_rail_with_the_skip(self, owner_client, station, tracks):
        response = owner_client.post(reverse("plays"), play_data(tracks[0][2], station), HTTP_HX_REQUEST="true")
        page = response.content.decode()
        assert response.status_code == 200 and page.lstrip().startswith("<div id=\"listening-rail\"")
        assert f'data-track-id="{tracks[0][2].pk}"' in page and "plays a little less like it" in page

    def test_another_users_station_is_a_404_and_nothing_is_recorded(
        self, owner_client, outsiders_station, tracks
    ):
        response = owner_client.post(reverse("plays"), play_data(tracks[1][2], outsiders_station))
        assert response.status_code == 404 and not Play.objects.exists()

    @pytest.mark.parametrize(
        "changes, message",
        [
            ({"track": "abc"}, "is not a track id"),
            ({"track": "1\x00"}, "is not a track id"),
            ({"track": "999999"}, "There is no track 999999."),
            ({"seconds": "NaN"}, "Seconds played must be a number between 0 and 86400."),
            ({"seconds": "-1"}, "Seconds played must be a number between 0 and 86400."),
            ({"seconds": "1e9"}, "Seconds played must be a number between 0 and 86400."),
            ({"seconds": ""}, "Seconds played must be a number between 0 and 86400."),
            ({"ended": "paused"}, "A play ends “finished” or “skipped”."),
            ({"ended": "skipped\x00"}, "A play ends “finished” or “skipped”."),
            ({"ended": ""}, "Say how the play ended"),
            ({"station": "x"}, "That is not a station id."),
            ({"station": "0"}, "That is not a station id."),
        ],
    )
    def test_bad_values_are_a_400_that_says_why(self, owner_client, station, tracks, changes, message):
        response = owner_client.post(reverse("plays"), {**play_data(tracks[0][2], station), **changes})
        assert response.status_code == 400 and message in response.content.decode()
        assert not Play.objects.exists()

    def test_a_get_changes_nothing(self, owner_client, station, tracks):
        response = owner_client.get(reverse("plays"), play_data(tracks[0][2], station))
        assert response.status_code == 405 and not Play.objects.exists()

    def test_a_visitor_who_is_not_signed_in_records_nothing(self, client, station, tracks):
        response = client.post(reverse("plays"), play_data(tracks[0][2], station))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        assert not Play.objects.exists()


@pytest.mark.django_db
class TestNowPlaying:
    def test_it_sets_what_the_station_plays_now(self, owner_client, station, tracks):
        response = owner_client.post(reverse("plays_now"), {"track": tracks[0][3].pk, "station": station.pk})
        assert response.status_code == 204
        assert Station.objects.get(pk=station.pk).now_playing == tracks[0][3]

    def test_another_users_station_is_a_404(self, owner_client, outsiders_station, tracks):
        data = {"track": tracks[1][3].pk, "station": outsiders_station.pk}
        assert owner_client.post(reverse("plays_now"), data).status_code == 404
        assert Station.objects.get(pk=outsiders_station.pk).now_playing is None

    def test_a_bad_track_is_a_400(self, owner_client, station):
        response = owner_client.post(reverse("plays_now"), {"track": "999999", "station": station.pk})
        assert response.status_code == 400 and "There is no track 999999." in response.content.decode()


@pytest.mark.django_db
class TestUndo:
    def test_the_owner_undoes_a_skips_signal_and_goes_back_to_the_station(self, owner_client, owner, station, tracks):
        play = record_play(owner, tracks[0][2].pk, station, 5.0, Play.SKIPPED)
        response = owner_client.post(reverse("play_undo", args=[play.pk]))
        assert response.status_code == 302 and response["Location"] == f"/stations/{station.pk}/"
        play.refresh_from_db()
        assert play.signal_undone

    def test_htmx_gets_the_rail_without_the_undone_skip(self, owner_client, owner, station, tracks):
        undone = record_play(owner, tracks[0][2].pk, station, 5.0, Play.SKIPPED)
        kept = record_play(owner, tracks[0][3].pk, station, 5.0, Play.SKIPPED)
        response = owner_client.post(reverse("play_undo", args=[undone.pk]), HTTP_HX_REQUEST="true")
        page = response.content.decode()
        assert response.status_code == 200
        assert f'data-play-id="{kept.pk}"' in page and f'data-play-id="{undone.pk}"' not in page

    def test_another_users_play_is_a_404_and_stays_as_it_was(self, owner_client, outsider, outsiders_station, tracks):
        play = record_play(outsider, tracks[1][2].pk, outsiders_station, 5.0, Play.SKIPPED)
        assert owner_client.post(reverse("play_undo", args=[play.pk])).status_code == 404
        play.refresh_from_db()
        assert not play.signal_undone


@pytest.mark.django_db
class TestHistory:
    def test_it_lists_your_plays_with_a_play_button_each_in_one_playlist(
        self, owner_client, owner, outsider, station, tracks
    ):
        record_play(owner, tracks[0][2].pk, station, 5.0, Play.SKIPPED)
        record_play(owner, tracks[1][4].pk, None, 201.0, Play.FINISHED)
        record_play(outsider, tracks[1][5].pk, None, 201.0, Play.FINISHED)
        response = owner_client.get(reverse("play_history"))
        page = response.content.decode()
        assert response.status_code == 200
        playlist = re.search(r"<ol[^>]*data-playlist[^>]*>(.*?)</ol>", page, re.S).group(1)
        buttons = re.findall(r'<button[^>]*data-play[^>]*data-track-id="(\d+)"', playlist)
        assert buttons == [str(tracks[1][4].pk), str(tracks[0][2].pk)]
        assert "played through" in page and "skipped" in page and station.name in page and "no station" in page
        assert tracks[1][5].title not in page

    def test_it_pages_by_fifty(self, owner_client, owner, tracks):
        for _ in range(HISTORY_PAGE_SIZE + 1):
            record_play(owner, tracks[0][2].pk, None, 5.0, Play.SKIPPED)
        first = owner_client.get(reverse("play_history")).content.decode()
        second = owner_client.get(reverse("play_history"), {"page": 2}).content.decode()
        assert first.count('class="history-item"') == HISTORY_PAGE_SIZE and "Page 1 of 2" in first
        assert second.count('class="history-item"') == 1 and "Page 2 of 2" in second

    @pytest.mark.parametrize("page", ["abc", "0", "1\x00"])
    def test_a_bad_page_is_a_400(self, owner_client, page):
        response = owner_client.get(reverse("play_history"), {"page": page})
        assert response.status_code == 400 and "A page is a whole number from 1." in response.content.decode()

    def test_nothing_played_says_how_to_start(self, owner_client):
        page = owner_client.get(reverse("play_history")).content.decode()
        assert "Nothing played yet." in page and 'href="/history/"' in page
