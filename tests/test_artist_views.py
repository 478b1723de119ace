import pytest
from django.urls import reverse

from discovery.browse.services import INDEX_PAGE_SIZE, artist_index
from taste.stations.forms import MAX_SEEDS
from taste.stations.models import Station
from tests.browse_catalogue import add_track
from tests.catalogue import make_catalogue
from tracks.models import Track

pytestmark = pytest.mark.django_db


def artist_url(client, name):
    """The artist page's address as the index links it."""
    words = any(c.isalnum() for c in name)  # a name of punctuation alone is found in the whole list
    page = client.get(reverse("artist_list"), {"q": name} if words else {})
    entries = [e for e in page.context["page"] if e.credit.name.casefold() == name.casefold()]
    assert len(entries) == 1, [e.credit.name for e in page.context["page"]]
    return entries[0].credit.url


@pytest.fixture
def odd_artists(db):
    add_track("Highway", "AC/DC", "Highway to Hell", folder="/music/acdc/hth")
    add_track("Shot", "ac/dc", "Back in Black", folder="/music/acdc/bib")
    add_track("Loose", "AC/DC")
    add_track("Duet", "Alpha; Beta", "Shared", folder="/music/shared")
    add_track("Solo", "Beta", "Shared", folder="/music/shared")
    add_track("Dots", "..")
    add_track("Query", "?#%")
    add_track("Merry Christmas", "坂本龍一")
    add_track("Secret", "Hidden Only", hidden=True)
    original = add_track("Original", "Remastered Band")
    add_track("Original (Remastered)", "Remastered Band", duplicate_of=original)


class TestArtistIndex:
    def test_it_lists_each_value_of_a_multi_valued_tag_once_whatever_its_case(self, owner_client, odd_artists):
        entries = {e.credit.name: e.tracks for e in owner_client.get(reverse("artist_list")).context["page"]}
        assert entries["Alpha"] == 1 and entries["Beta"] == 2
        assert sum(1 for name in entries if name.casefold() == "ac/dc") == 1
        assert entries["AC/DC"] == 3 or entries.get("ac/dc") == 3

    def test_hidden_tracks_and_re_releases_do_not_count(self, owner_client, odd_artists):
        entries = {e.credit.name: e.tracks for e in owner_client.get(reverse("artist_list")).context["page"]}
        assert "Hidden Only" not in entries and entries["Remastered Band"] == 1

    def test_words_narrow_it_to_artists_whose_name_matches(self, owner_client, odd_artists):
        names = [e.credit.name for e in owner_client.get(reverse("artist_list"), {"q": "bet"}).context["page"]]
        assert names == ["Beta"]  # not Alpha, although "Alpha; Beta" matches the track

    def test_it_is_paginated(self, owner_client, db):
        for number in range(INDEX_PAGE_SIZE + 7):
            add_track(f"Song {number}", f"Band {number:03d}")
        first = owner_client.get(reverse("artist_list"))
        second = owner_client.get(reverse("artist_list"), {"page": 2})
        assert len(first.context["page"]) == INDEX_PAGE_SIZE and len(second.context["page"]) == 7
        assert first.context["page"][0].credit.name == "Band 000"
        assert second.context["page"][-1].credit.name == "Band 056"
        assert 'rel="next"' in first.content.decode() and "page=2" in first.content.decode()

    def test_htmx_gets_the_list_alone(self, owner_client, odd_artists):
        fragment = owner_client.get(reverse("artist_list"), {"q": "alpha"}, HTTP_HX_REQUEST="true").content.decode()
        assert "<html" not in fragment and 'id="browse-index"' in fragment and "Alpha" in fragment

    @pytest.mark.parametrize("params, message", [
        ({"page": "two"}, "A page is a whole number"), ({"page": "0"}, "A page is a whole number"),
        ({"q": "a\x00b"}, "Remove the control characters"),
    ])
    def test_a_bad_page_or_query_is_a_400_that_says_why(self, owner_client, odd_artists, params, message):
        response = owner_client.get(reverse("artist_list"), params)
        assert response.status_code == 400 and message in response.content.decode()

    def test_punctuation_alone_finds_nothing_and_says_so(self, owner_client, odd_artists):
        response = owner_client.get(reverse("artist_list"), {"q": "?#%"})
        assert response.status_code == 200 and "No artist matches" in response.content.decode()

    def test_it_needs_a_signed_in_listener(self, client, odd_artists):
        assert client.get(reverse("artist_list")).status_code == 302


class TestArtistPage:
    @pytest.mark.parametrize("name, titles", [
        ("AC/DC", {"Highway", "Shot", "Loose"}),
        ("..", {"Dots"}),
        ("?#%", {"Query"}),
        ("坂本龍一", {"Merry Christmas"}),
        ("Alpha", {"Duet"}),
        ("Beta", {"Duet", "Solo"}),
    ])
    def test_odd_names_have_a_page_of_their_tracks(self, owner_client, odd_artists, name, titles):
        response = owner_client.get(artist_url(owner_client, name))
        assert response.status_code == 200
        assert {t.title for t in response.context["collection"].tracks} == titles

    def test_tracks_are_grouped_by_album_with_loose_tracks_last(self, owner_client, odd_artists):
        collection = owner_client.get(artist_url(owner_client, "AC/DC")).context["collection"]
        assert [g.credit.name if g.credit else None for g in collection.groups] == [
            "Back in Black", "Highway to Hell", None,
        ]
        page = owner_client.get(artist_url(owner_client, "AC/DC")).content.decode()
        assert "Other tracks" in page and collection.groups[0].credit.url in page

    def test_hidden_tracks_and_re_releases_are_not_listed(self, owner_client, odd_artists):
        collection = owner_client.get(artist_url(owner_client, "Remastered Band")).context["collection"]
        assert [t.title for t in collection.tracks] == ["Original"]
        hidden = Track.objects.get(title="Secret")
        Track.objects.filter(pk=hidden.pk).update(hidden=False)
        url = artist_url(owner_client, "Hidden Only")
        Track.objects.filter(pk=hidden.pk).update(hidden=True)
        assert owner_client.get(url).status_code == 404

    def test_every_track_has_a_play_button_in_one_playlist_and_play_all_comes_first(self, owner_client, odd_artists):
        page = owner_client.get(artist_url(owner_client, "AC/DC")).content.decode()
        playlist = page[page.index("data-playlist"):page.index("</article>")]
        assert playlist.count("data-play ") == 3  # one per track
        assert playlist.index("data-play-first") < playlist.index("data-play ")  # "Play all" presses the first

    def test_a_stale_slug_or_a_bare_key_redirects_to_the_page(self, owner_client, odd_artists):
        url = artist_url(owner_client, "AC/DC")
        key = url.rstrip("/").rsplit("-", 1)[1]
        for other in [reverse("artist_detail", args=[f"old-name-{key}"]), reverse("artist_detail", args=[key])]:
            response = owner_client.get(other)
            assert response.status_code == 301 and response["Location"] == url

    @pytest.mark.parametrize("ref", ["acdc-0000000000", "acdc", "acdc-ZZZZZZZZZZ", "x" * 300])
    def test_an_unknown_key_is_a_404(self, owner_client, odd_artists, ref):
        assert owner_client.get(reverse("artist_detail", args=[ref])).status_code == 404

    def test_search_results_and_the_track_page_link_to_each_artist(self, owner_client, odd_artists):
        duet = Track.objects.get(title="Duet")
        results = owner_client.get(reverse("search"), {"q": "duet"}).content.decode()
        track_page = owner_client.get(reverse("track_detail", args=[duet.pk])).content.decode()
        for name in ["Alpha", "Beta"]:
            assert f'href="{artist_url(owner_client, name)}"' in results
            assert f'href="{artist_url(owner_client, name)}"' in track_page

    def test_the_index_query_does_not_grow_with_the_catalogue(self, django_assert_max_num_queries, odd_artists):
        with django_assert_max_num_queries(2):
            list(artist_index("", 1))


class TestStationFromArtist:
    @pytest.fixture
    def spread_artist(self, db):
        _, clusters = make_catalogue(clusters=3, per_cluster=12)
        # One artist across the three sound clusters, mostly the first.
        members = clusters[0][:10] + clusters[1][:2] + clusters[2][:2]
        Track.objects.filter(pk__in=[t.pk for t in members]).update(artist="Wide Ranger")
        return clusters, members

    def test_it_starts_a_station_seeded_across_the_artists_sound(self, owner_client, owner, spread_artist):
        clusters, _ = spread_artist
        url = artist_url(owner_client, "Wide Ranger")
        response = owner_client.post(url + "station/")
        station = Station.objects.get(owner=owner)
        assert response.status_code == 302 and response["Location"] == reverse("station_detail", args=[station.pk])
        seeds = [t.pk for t in station.ordered_seeds()]
        assert len(seeds) == MAX_SEEDS == len(set(seeds))
        for cluster in clusters:  # the two-track clusters are reached although ten tracks sound like the first
            assert any(t.pk in seeds for t in cluster)
        assert station.name == "More like Wide Ranger"

    def test_a_long_page_shows_the_first_tracks_and_the_station_spans_them_all(self, owner_client, owner,
                                                                               spread_artist, monkeypatch):
        monkeypatch.setattr("discovery.browse.services.MAX_TRACKS_SHOWN", 5)
        url = artist_url(owner_client, "Wide Ranger")
        response = owner_client.get(url)
        assert len(response.context["collection"].tracks) == 5
        assert "The first 5 of 14 tracks" in response.content.decode()
        shown = {t.pk for t in response.context["collection"].tracks}
        owner_client.post(url + "station/")
        seeds = {t.pk for t in Station.objects.get(owner=owner).ordered_seeds()}
        assert len(seeds) == MAX_SEEDS and seeds - shown

    def test_an_artist_with_nothing_embedded_cannot_start_one(self, owner_client, odd_artists):
        response = owner_client.post(artist_url(owner_client, "AC/DC") + "station/")
        assert response.status_code == 400 and "embedded yet" in response.content.decode()
        assert not Station.objects.exists()

    def test_a_get_starts_nothing(self, owner_client, spread_artist):
        assert owner_client.get(artist_url(owner_client, "Wide Ranger") + "station/").status_code == 405
        assert not Station.objects.exists()
