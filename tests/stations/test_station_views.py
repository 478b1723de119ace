import math
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from taste.stations.models import Station, Thumb
from taste.stations.services import create_station
from tests.catalogue import make_catalogue
from tracks.models import Track


@pytest.fixture
def catalogue(db):
    return make_catalogue()


@pytest.fixture
def station(catalogue, owner):
    _, clusters = catalogue
    return create_station(owner, [clusters[0][0].pk, clusters[0][1].pk])


def result_ids(response) -> list[int]:
    return [rec.track.pk for rec in response.context["recommendations"]]


def result_ids_of(page: str) -> list[int]:
    return [int(part.split('"')[0]) for part in page.split('class="result" data-track-id="')[1:]]


@pytest.mark.django_db
class TestCreateStation:
    def test_posting_seeds_makes_a_station_and_redirects_to_it(self, owner_client, catalogue):
        _, clusters = catalogue
        seeds = [clusters[1][0].pk, clusters[1][3].pk]
        response = owner_client.post(reverse("station_list"), {"seed": seeds, "name": "Evening"})
        station = Station.objects.get()
        assert response.status_code == 302 and response["Location"] == f"/stations/{station.pk}/"
        assert station.name == "Evening" and [t.pk for t in station.ordered_seeds()] == seeds

    @pytest.mark.parametrize(
        "seeds, message",
        [
            ([], "Pick at least one song"),
            (["abc"], "is not a track id"),
            (["999999"], "cannot be a seed"),
            ([str(i) for i in range(1, 12)], "at most 10 songs"),
            (["0"], "is not a track id"),
            (["1.5"], "is not a track id"),
            (["١"], "is not a track id"),
            (["３"], "is not a track id"),
            (["1_0"], "is not a track id"),
        ],
    )
    def test_bad_seeds_are_a_400_that_says_why(self, owner_client, catalogue, seeds, message):
        response = owner_client.post(reverse("station_list"), {"seed": seeds})
        assert response.status_code == 400 and message in response.content.decode()
        assert not Station.objects.exists()

    def test_a_plain_post_without_seeds_gets_a_whole_page_that_says_why(self, owner_client, catalogue):
        response = owner_client.post(reverse("station_list"), {"seed": []}, HTTP_REFERER="http://testserver/")
        page = response.content.decode()
        assert response.status_code == 400 and page.lstrip().startswith("<!doctype html>")
        assert 'class="topbar"' in page and "Pick at least one song to start a station." in page
        assert 'href="http://testserver/"' in page  # a way back to where the listener was

    def test_an_htmx_post_without_seeds_gets_the_message_for_the_error_box(self, owner_client, catalogue):
        response = owner_client.post(reverse("station_list"), {"seed": []}, HTTP_HX_REQUEST="true")
        page = response.content.decode()
        assert response.status_code == 400 and "<html" not in page and "Pick at least one song" in page

    def test_a_way_back_never_leads_off_the_site(self, owner_client, catalogue):
        response = owner_client.post(reverse("station_list"), {"seed": []}, HTTP_REFERER="https://evil.example/")
        assert response.status_code == 400 and "evil.example" not in response.content.decode()

    def test_a_name_with_a_nul_character_is_a_400(self, owner_client, catalogue):
        _, clusters = catalogue
        response = owner_client.post(reverse("station_list"), {"seed": [clusters[0][0].pk], "name": "a\x00b"})
        assert response.status_code == 400 and "Remove the control characters" in response.content.decode()
        assert not Station.objects.exists()

    def test_an_oversize_value_is_not_echoed_whole(self, owner_client, catalogue):
        response = owner_client.post(reverse("station_list"), {"seed": ["x" * 1_000_000]})
        page = response.content.decode()
        assert response.status_code == 400 and "is not a track id" in page and len(page) < 20_000

    @pytest.mark.parametrize("name", ["line\nbreak", "escape\x1b[31m", "tab\tstop"])
    def test_a_name_with_a_control_character_is_a_400(self, owner_client, catalogue, name):
        _, clusters = catalogue
        response = owner_client.post(reverse("station_list"), {"seed": [clusters[0][0].pk], "name": name})
        assert response.status_code == 400 and "control characters" in response.content.decode()
        assert not Station.objects.exists()

    def test_a_re_release_cannot_be_a_seed(self, owner_client, catalogue):
        _, clusters = catalogue
        original, copy = clusters[0][0], clusters[0][1]
        Track.objects.filter(pk=copy.pk).update(duplicate_of=original)
        response = owner_client.post(reverse("station_list"), {"seed": [copy.pk]})
        assert response.status_code == 400 and "re-release" in response.content.decode()

    def test_a_hidden_track_cannot_be_a_seed(self, owner_client, catalogue):
        _, clusters = catalogue
        Track.objects.filter(pk=clusters[0][0].pk).update(hidden=True)
        response = owner_client.post(reverse("station_list"), {"seed": [clusters[0][0].pk]})
        assert response.status_code == 400


@pytest.mark.django_db
class TestStationPage:
    def test_it_lists_tracks_that_sound_like_the_seeds(self, owner_client, station, catalogue):
        _, clusters = catalogue
        response = owner_client.get(reverse("station_detail", args=[station.pk]))
        ids = result_ids(response)
        seeds = {clusters[0][0].pk, clusters[0][1].pk}
        assert len(ids) == 20 and not seeds & set(ids)
        # The seeds' own cluster comes first: the first results are all from it.
        assert set(ids[:5]) <= {t.pk for t in clusters[0]}
        page = response.content.decode()
        assert page.count('class="result" data-track-id=') == 20
        assert "{#" not in page and "{%" not in page  # no template comment or tag leaks into the page
        # The why line names a seed and the tag its cluster has and the rest of the catalogue lacks.
        assert "Sounds like “C0 T" in page and ", your seed — closer than " in page and "· both: folk" in page
        assert "ambient" not in page and "jazz" not in page

    def test_at_most_two_tracks_per_artist(self, owner_client, station):
        response = owner_client.get(reverse("station_detail", args=[station.pk]))
        artists = [rec.track.artist for rec in response.context["recommendations"]]
        assert max(artists.count(a) for a in set(artists)) <= 2

    def test_titles_and_artists_are_escaped(self, owner_client, station, catalogue):
        _, clusters = catalogue
        Track.objects.filter(pk=clusters[0][2].pk).update(title="<script>alert(1)</script>", artist="<b>x</b>")
        page = owner_client.get(reverse("station_detail", args=[station.pk])).content.decode()
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<b>x</b>" not in page


@pytest.mark.django_db
class TestThumbs:
    def thumb(self, client, station, track, value, **headers):
        return client.post(reverse("station_thumbs", args=[station.pk]), {"track": track.pk, "value": value}, **headers)

    def test_a_thumb_down_removes_the_track_for_good(self, owner_client, station):
        first = result_ids(owner_client.get(reverse("station_detail", args=[station.pk])))[0]
        response = self.thumb(owner_client, station, Track.objects.get(pk=first), "down", HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        assert first not in result_ids(response)
        assert f'data-track-id="{first}"' in response.content.decode().split('id="disliked-rail"')[1].split("</ul>")[0]

    def test_a_thumb_up_moves_the_list_and_lands_in_the_liked_rail(self, owner_client, station, catalogue):
        _, clusters = catalogue
        before = result_ids(owner_client.get(reverse("station_detail", args=[station.pk])))
        far = clusters[2][0]
        response = self.thumb(owner_client, station, far, "up", HTTP_HX_REQUEST="true")
        after = result_ids(response)
        assert after != before and far.pk not in after
        assert Thumb.objects.get(track=far).value == Thumb.UP
        # The HTMX answer is the live fragment only, not a whole page.
        assert not response.content.decode().lstrip().startswith("<!doctype")

    def test_a_thumb_from_the_list_gets_the_list_and_only_the_rail_it_changed(self, owner_client, station, catalogue):
        far = catalogue[1][2][0]
        list_only = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "station-results"}
        page = self.thumb(owner_client, station, far, "up", **list_only).content.decode()
        assert page.startswith('<div id="station-results"') and 'id="station-live"' not in page
        assert page.count('class="result" data-track-id=') == 20 and far.pk not in result_ids_of(page)
        # The liked rail rides along out of band, with the track; the other rails did not change.
        liked = page.split('<ul class="rail-list" id="liked-rail" hx-swap-oob="true">')[1].split("</ul>")[0]
        assert f'data-track-id="{far.pk}"' in liked
        assert 'id="disliked-rail"' not in page and 'id="seed-rail"' not in page and "listening-rail" not in page
        # Turned down, it leaves the liked rail and joins the other one: both are redrawn.
        page = self.thumb(owner_client, station, far, "down", **list_only).content.decode()
        assert 'id="liked-rail" hx-swap-oob="true"' in page and 'id="disliked-rail" hx-swap-oob="true"' in page
        assert f'data-track-id="{far.pk}"' not in page.split('id="liked-rail"')[1].split("</ul>")[0]
        page = self.thumb(owner_client, station, far, "clear", **list_only).content.decode()
        assert 'id="liked-rail"' not in page and "Thumbed-down tracks leave for good." in page

    def test_the_players_thumb_still_gets_the_whole_live_part(self, owner_client, station, catalogue):
        response = self.thumb(owner_client, station, catalogue[1][2][0], "up", HTTP_HX_REQUEST="true",
                              HTTP_HX_TARGET="station-live")
        page = response.content.decode()
        assert 'id="station-live"' in page and 'id="listening-rail"' in page and "hx-swap-oob" not in page

    def test_clear_undoes_a_thumb(self, owner_client, station, catalogue):
        track = catalogue[1][0][0]
        self.thumb(owner_client, station, track, "down")
        self.thumb(owner_client, station, track, "clear")
        assert not Thumb.objects.exists()

    def test_without_htmx_it_redirects_back(self, owner_client, station, catalogue):
        response = self.thumb(owner_client, station, catalogue[1][0][0], "up")
        assert response.status_code == 302 and response["Location"] == f"/stations/{station.pk}/"

    @pytest.mark.parametrize("value", ["sideways", "", "UP"])
    def test_a_bad_value_is_a_400(self, owner_client, station, catalogue, value):
        response = self.thumb(owner_client, station, catalogue[1][0][0], value)
        assert response.status_code == 400 and "“up”, “down” or “clear”" in response.content.decode()

    def test_a_bad_track_is_a_400(self, owner_client, station):
        response = owner_client.post(reverse("station_thumbs", args=[station.pk]), {"track": "x", "value": "up"})
        assert response.status_code == 400 and "is not a track id" in response.content.decode()


@pytest.mark.django_db
class TestKnobs:
    def test_results_follow_the_knobs_in_the_query(self, owner_client, station):
        url = reverse("station_results", args=[station.pk])
        familiar = result_ids(owner_client.get(url, {"breadth": "0.5", "explore": "0"}))
        adventurous = result_ids(owner_client.get(url, {"breadth": "0.5", "explore": "1"}))
        assert familiar != adventurous

    def test_a_get_of_the_results_leaves_the_station_unchanged(self, owner_client, station):
        before = Station.objects.filter(pk=station.pk).values().get()
        response = owner_client.get(reverse("station_results", args=[station.pk]), {"breadth": "0.9", "explore": "1"})
        assert response.status_code == 200
        assert Station.objects.filter(pk=station.pk).values().get() == before

    def test_posting_the_knobs_saves_them_and_answers_the_new_list(self, owner_client, station):
        url = reverse("station_knobs", args=[station.pk])
        response = owner_client.post(url, {"breadth": "0.9", "explore": "1"}, HTTP_HX_REQUEST="true")
        station.refresh_from_db()
        assert (station.breadth, station.explore) == (0.9, 1.0)
        assert response.status_code == 200 and 'id="station-live"' in response.content.decode()
        assert result_ids(response) == result_ids(owner_client.get(reverse("station_results", args=[station.pk])))

    def test_a_knob_from_the_page_gets_the_list_without_rails(self, owner_client, station):
        response = owner_client.post(reverse("station_knobs", args=[station.pk]), {"explore": "1"},
                                     HTTP_HX_REQUEST="true", HTTP_HX_TARGET="station-results")
        page = response.content.decode()
        assert page.count('class="result" data-track-id=') == 20 and "rail" not in page

    def test_a_plain_knobs_post_goes_back_to_the_station(self, owner_client, station):
        response = owner_client.post(reverse("station_knobs", args=[station.pk]), {"explore": "0.7"})
        assert response.status_code == 302 and response["Location"] == f"/stations/{station.pk}/"

    def test_a_knobs_get_is_refused(self, owner_client, station):
        assert owner_client.get(reverse("station_knobs", args=[station.pk]), {"explore": "1"}).status_code == 405

    @pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "-0.1", "1.5", "loud", "1e309", "０.５", "0_5"])
    @pytest.mark.parametrize("method, name", [("get", "station_results"), ("post", "station_knobs")])
    def test_bad_knob_values_are_a_400_and_change_nothing(self, owner_client, station, value, method, name):
        response = getattr(owner_client, method)(reverse(name, args=[station.pk]), {"explore": value})
        assert response.status_code == 400 and "Explore must be a number between 0 and 1." in response.content.decode()
        station.refresh_from_db()
        assert station.explore == 0.2 and not math.isnan(station.explore)


@pytest.mark.django_db
class TestSeeds:
    def test_a_new_seed_from_the_list_redraws_the_seeds_and_thumbs_rails(self, owner_client, station, catalogue):
        track = catalogue[1][2][3]
        owner_client.post(reverse("station_thumbs", args=[station.pk]), {"track": track.pk, "value": "down"})
        response = owner_client.post(reverse("station_seeds", args=[station.pk]), {"track": track.pk, "action": "add"},
                                     HTTP_HX_REQUEST="true", HTTP_HX_TARGET="station-results")
        page = response.content.decode()
        seeds = page.split('id="seed-rail" hx-swap-oob="true">')[1].split("</ul>")[0]
        assert f'data-track-id="{track.pk}"' in seeds
        # Its thumb went with it (services.add_seed): the disliked rail is redrawn without it.
        assert f'data-track-id="{track.pk}"' not in page.split('id="disliked-rail" hx-swap-oob="true">')[1]


@pytest.mark.django_db
class TestExports:
    def test_results_json_lists_the_page_with_its_reasons(self, owner_client, station):
        data = owner_client.get(reverse("station_results_json", args=[station.pk])).json()
        assert len(data["results"]) == 20
        first = data["results"][0]
        assert set(first) == {"track_id", "audio_url", "title", "artist", "score", "similarity", "why", "why_anchor_id"}
        assert first["audio_url"].startswith(f"http://testserver/tracks/{first['track_id']}/stream/")
        assert first["why_anchor_id"] in {t.pk for t in station.ordered_seeds()}
        assert first["why"].startswith("Sounds like “C0 T")

    def test_m3u_and_xspf_playlists(self, owner_client, station):
        m3u = owner_client.get(reverse("station_playlist_m3u", args=[station.pk]))
        assert m3u["Content-Type"].startswith("audio/x-mpegurl")
        lines = m3u.content.decode().splitlines()
        assert lines[0] == "#EXTM3U" and sum(line.startswith("#EXTINF:") for line in lines) == 20
        xspf = owner_client.get(reverse("station_playlist_xspf", args=[station.pk])).content.decode()
        assert xspf.count("<track>") == 20 and 'xmlns="http://xspf.org/ns/0/"' in xspf


@pytest.mark.django_db
class TestPrivacy:
    @pytest.mark.parametrize(
        "method, name",
        [
            ("get", "station_detail"),
            ("get", "station_results"),
            ("get", "station_results_json"),
            ("get", "station_playlist_m3u"),
            ("get", "station_playlist_xspf"),
            ("post", "station_thumbs"),
            ("post", "station_seeds"),
            ("post", "station_knobs"),
        ],
    )
    def test_another_users_station_is_a_404(self, client, outsider, station, catalogue, method, name):
        client.force_login(outsider)
        data = {"track": catalogue[1][0][0].pk, "value": "up"} if method == "post" else {}
        response = getattr(client, method)(reverse(name, args=[station.pk]), data)
        assert response.status_code == 404
        assert not Thumb.objects.exists()

    def test_the_station_list_shows_only_ones_own(self, client, outsider, station):
        client.force_login(outsider)
        assert station.name not in client.get(reverse("station_list")).content.decode()

    def test_every_post_needs_the_csrf_token(self, owner, station, catalogue):
        client = Client(enforce_csrf_checks=True)
        client.force_login(owner)
        response = client.post(
            reverse("station_thumbs", args=[station.pk]),
            {"track": catalogue[1][0][0].pk, "value": "up"},
            HTTP_HX_REQUEST="true",
        )
        assert response.status_code == 403 and not Thumb.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_simultaneous_thumbs_from_two_tabs_lose_nothing(owner, django_user_model):
    _, clusters = make_catalogue()
    station = create_station(owner, [clusters[0][0].pk])
    tracks = clusters[1][:6]
    barrier = threading.Barrier(len(tracks))
    errors = []

    def thumb(track):
        try:
            client = Client()
            client.force_login(owner)
            barrier.wait(timeout=10)
            response = client.post(
                reverse("station_thumbs", args=[station.pk]), {"track": track.pk, "value": "up"}, HTTP_HX_REQUEST="true"
            )
            assert response.status_code == 200, response.content
        except Exception as error:  # collected and re-raised in the test thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=thumb, args=(track,)) for track in tracks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert set(Thumb.objects.filter(station=station).values_list("track_id", flat=True)) == {t.pk for t in tracks}
