import pytest
from django.urls import reverse

from discovery.browse.services import INDEX_PAGE_SIZE
from taste.stations.forms import MAX_SEEDS
from taste.stations.models import Station
from tests.browse_catalogue import add_track
from tests.catalogue import make_catalogue
from tracks.models import Track

pytestmark = pytest.mark.django_db


def entries(client, **params):
    return list(client.get(reverse("album_list"), params).context["page"])


def album_url(client, name, artist=None):
    """The address of the album the index lists under this name (and artist, when two share a name)."""
    found = [e for e in entries(client) if e.credit.name == name and (artist is None or e.artist == artist)]
    assert len(found) == 1, [(e.credit.name, e.artist) for e in entries(client)]
    return found[0].credit.url


@pytest.fixture
def albums(db):
    # Files named as rippers name them: the track number first, so path order is album order.
    for number, title in [(2, "Second"), (1, "First"), (10, "Tenth"), (3, "Third")]:
        add_track(f"{number:02d} {title}", "Rip Band", "Numbered", folder="/music/rip band/numbered", year=2001)
    add_track("Gold 1", "Queen", "Greatest Hits", folder="/music/queen/gh", year=1981)
    add_track("Gold 2", "ABBA", "Greatest Hits", folder="/music/abba/gh", year=1992)
    for artist in ["One", "Two", "Three", "Four", "Five"]:
        add_track(f"{artist} song", artist, "Now 42", folder="/music/compilations/now 42")
    add_track("Preview A", "Web Band", "Online", folder=None)
    add_track("Preview B", "web band", "online", folder=None)
    add_track("No Album", "Rip Band")
    add_track("Slash", "Odd", "AC/DC: Live / Dead?", folder="/music/odd")
    add_track("Kept", "Hider", "Half Hidden", folder="/music/hider")
    add_track("Gone", "Hider", "Half Hidden", folder="/music/hider", hidden=True)
    add_track("Only Hidden", "Hider", "All Hidden", folder="/music/hider2", hidden=True)


class TestAlbumIndex:
    def test_an_album_is_its_name_in_its_folder_or_by_its_artist(self, owner_client, albums):
        listed = {(e.credit.name.casefold(), e.artist.casefold()): e.tracks for e in entries(owner_client)}
        assert listed[("greatest hits", "queen")] == 1 and listed[("greatest hits", "abba")] == 1
        assert listed[("now 42", "")] == 5  # a compilation in one folder is one album of several artists
        assert listed[("online", "web band")] == 2  # previews: the same album by the same artist, whatever the case
        assert listed[("numbered", "rip band")] == 4

    def test_tracks_without_an_album_and_hidden_ones_are_not_albums(self, owner_client, albums):
        listed = {e.credit.name: e.tracks for e in entries(owner_client)}
        assert "" not in listed and "All Hidden" not in listed and listed["Half Hidden"] == 1

    def test_words_find_an_album_by_its_name_or_its_artists(self, owner_client, albums):
        assert {e.artist for e in entries(owner_client, q="greatest")} == {"Queen", "ABBA"}
        assert [e.credit.name for e in entries(owner_client, q="abba")] == ["Greatest Hits"]
        assert [e.credit.name for e in entries(owner_client, q="three")] == ["Now 42"]
        assert [e.credit.name for e in entries(owner_client, q="ac dc")] == ["AC/DC: Live / Dead?"]

    def test_it_is_paginated(self, owner_client, db):
        for number in range(INDEX_PAGE_SIZE + 3):
            add_track("Song", "Band", f"Album {number:03d}", folder=f"/music/band/{number}")
        assert len(entries(owner_client)) == INDEX_PAGE_SIZE
        assert [e.credit.name for e in entries(owner_client, page=2)] == ["Album 050", "Album 051", "Album 052"]
        assert len(entries(owner_client, page=99)) == 3  # past the end is the last page

    def test_a_bad_page_is_a_400_that_says_why(self, owner_client, albums):
        response = owner_client.get(reverse("album_list"), {"page": "1.5"})
        assert response.status_code == 400 and "A page is a whole number" in response.content.decode()


class TestAlbumPage:
    def test_tracks_come_in_album_order(self, owner_client, albums):
        collection = owner_client.get(album_url(owner_client, "Numbered")).context["collection"]
        assert [t.title for t in collection.tracks] == ["01 First", "02 Second", "03 Third", "10 Tenth"]

    def test_a_compilation_lists_its_artists_and_each_tracks_artist(self, owner_client, albums):
        response = owner_client.get(album_url(owner_client, "Now 42"))
        assert len(response.context["collection"].artists) == 5
        page = response.content.decode()
        assert "Various artists" in page and page.count('class="artist-link"') == 5

    def test_an_album_of_one_artist_links_to_them(self, owner_client, albums):
        page = owner_client.get(album_url(owner_client, "Greatest Hits", artist="Queen")).content.decode()
        queen = [e for e in owner_client.get(reverse("artist_list"), {"q": "queen"}).context["page"]][0]
        assert f'href="{queen.credit.url}"' in page and "Gold 1" in page and "Gold 2" not in page

    def test_an_odd_name_works_in_the_address(self, owner_client, albums):
        response = owner_client.get(album_url(owner_client, "AC/DC: Live / Dead?"))
        assert response.status_code == 200 and [t.title for t in response.context["collection"].tracks] == ["Slash"]

    def test_hidden_tracks_are_not_listed_and_a_wholly_hidden_album_is_a_404(self, owner_client, albums):
        collection = owner_client.get(album_url(owner_client, "Half Hidden")).context["collection"]
        assert [t.title for t in collection.tracks] == ["Kept"]
        Track.objects.filter(title="Kept").update(hidden=True)
        assert owner_client.get(collection.credit.url).status_code == 404

    def test_every_track_has_a_play_button_after_play_all(self, owner_client, albums):
        page = owner_client.get(album_url(owner_client, "Numbered")).content.decode()
        playlist = page[page.index("data-playlist"):page.index("</article>")]
        buttons = playlist.split("data-play ")[1:]
        assert len(buttons) == 4 and "01 First" in buttons[0]
        assert playlist.index("data-play-first") < playlist.index("data-play ")  # "Play all" presses the first

    def test_results_and_the_track_page_link_to_the_album(self, owner_client, albums):
        url = album_url(owner_client, "Numbered")
        track = Track.objects.get(title="01 First")
        assert f'href="{url}"' in owner_client.get(reverse("search"), {"q": "first"}).content.decode()
        assert f'href="{url}"' in owner_client.get(reverse("track_detail", args=[track.pk])).content.decode()

    def test_a_track_page_without_an_album_links_to_no_album(self, owner_client, albums):
        track = Track.objects.get(title="No Album")
        assert 'class="album-link"' not in owner_client.get(reverse("track_detail", args=[track.pk])).content.decode()


class TestStationFromAlbum:
    def test_it_seeds_a_station_with_tracks_spread_over_the_album(self, owner_client, owner, db):
        _, clusters = make_catalogue(clusters=2, per_cluster=12)
        members = clusters[0] + clusters[1][:1]  # twelve alike, one apart
        Track.objects.filter(pk__in=[t.pk for t in members]).update(album="Mostly Alike")
        url = [e.credit.url for e in entries(owner_client) if e.credit.name == "Mostly Alike"]
        response = owner_client.post(url[0] + "station/")
        assert response.status_code == 302
        seeds = [t.pk for t in Station.objects.get(owner=owner).ordered_seeds()]
        assert len(seeds) == MAX_SEEDS and clusters[1][0].pk in seeds

    def test_it_needs_a_signed_in_listener(self, client, albums):
        url = reverse("album_station", args=["numbered-0123456789"])
        assert client.post(url).status_code == 302 and not Station.objects.exists()  # to the sign-in page
