import pytest
from django.urls import reverse

from tests.catalogue import make_catalogue
from tracks.models import Track


@pytest.fixture
def named_tracks(db):
    make_catalogue(clusters=1, per_cluster=2)
    extra = [
        ("Beatles Medley", "Cover Band", "Tribute"),
        ("Let It Be", "The Beatles", "Let It Be"),
        ("Beat It", "Michael Jackson", "Thriller"),
        ("Hidden Beat", "Nobody", "Secret"),
    ]
    tracks = {t: Track.objects.create(title=t, artist=a, album=al, source="folder", source_key=t, status="ready")
              for t, a, al in extra}
    Track.objects.filter(title="Hidden Beat").update(hidden=True)
    return tracks


def titles(response):
    return [t.title for t in response.context["tracks"]]


@pytest.mark.django_db
class TestSearch:
    def test_words_match_as_prefixes_over_title_artist_and_album(self, owner_client, named_tracks):
        response = owner_client.get(reverse("search"), {"q": "beat"})
        assert set(titles(response)) == {"Beatles Medley", "Let It Be", "Beat It"}

    def test_every_word_must_match(self, owner_client, named_tracks):
        assert titles(owner_client.get(reverse("search"), {"q": "let beatles"})) == ["Let It Be"]

    def test_results_are_ranked(self, owner_client, named_tracks):
        # Matches in title and artist weigh more than in the album.
        assert titles(owner_client.get(reverse("search"), {"q": "thriller"})) == ["Beat It"]
        ranked = titles(owner_client.get(reverse("search"), {"q": "let it be"}))
        assert ranked[0] == "Let It Be"

    def test_punctuation_and_operators_cannot_break_the_query(self, owner_client, named_tracks):
        for query in ["beat & | ! (", "':*", "beat)", "<script>"]:
            assert owner_client.get(reverse("search"), {"q": query}).status_code == 200

    def test_hidden_tracks_are_not_found(self, owner_client, named_tracks):
        assert "Hidden Beat" not in titles(owner_client.get(reverse("search"), {"q": "hidden"}))

    def test_htmx_gets_the_fragment_and_a_plain_request_the_page(self, owner_client, named_tracks):
        fragment = owner_client.get(reverse("search"), {"q": "beat"}, HTTP_HX_REQUEST="true").content.decode()
        page = owner_client.get(reverse("search"), {"q": "beat"}).content.decode()
        assert "<html" not in fragment and 'class="search-results"' in fragment
        assert "<html" in page and 'class="search-results"' in page

    def test_only_embedded_tracks_offer_to_be_seeds(self, owner_client, named_tracks):
        page = owner_client.get(reverse("search"), {"q": "C0"}, HTTP_HX_REQUEST="true").content.decode()
        assert page.count("+ seed") == 2
        page = owner_client.get(reverse("search"), {"q": "beat"}, HTTP_HX_REQUEST="true").content.decode()
        assert "+ seed" not in page and "not embedded yet" in page

    def test_an_unknown_word_says_so(self, owner_client, named_tracks):
        page = owner_client.get(reverse("search"), {"q": "zzzz"}, HTTP_HX_REQUEST="true").content.decode()
        assert "Nothing matches “zzzz”" in page

    def test_a_seed_chip_carries_the_track_id(self, owner_client, named_tracks):
        track = Track.objects.get(title="C0 T0")
        chip = owner_client.get(reverse("seed_chip", args=[track.pk])).content.decode()
        assert f'name="seed" value="{track.pk}"' in chip
        assert owner_client.get(reverse("seed_chip", args=[named_tracks["Beat It"].pk])).status_code == 404

    def test_re_releases_are_not_found_twice(self, owner_client, named_tracks):
        remaster = Track.objects.create(
            title="Let It Be (Remastered 2009)", artist="The Beatles", source="folder", source_key="remaster",
            duplicate_of=named_tracks["Let It Be"],
        )
        found = titles(owner_client.get(reverse("search"), {"q": "let it be"}))
        assert "Let It Be" in found and remaster.title not in found

    @pytest.mark.parametrize(
        "query, message", [("a" * 201, "under 200 characters"), ("be\x00at", "Remove the control characters")]
    )
    def test_a_query_it_cannot_take_is_a_400_that_says_why(self, owner_client, named_tracks, query, message):
        response = owner_client.get(reverse("search"), {"q": query})
        assert response.status_code == 400 and message in response.content.decode()


@pytest.fixture
def many_matches(db):
    """45 embedded tracks that all match "wave", and the catalogue's others."""
    _, clusters = make_catalogue(clusters=3, per_cluster=15)
    Track.objects.update(album="Wave Album")
    return [t for cluster in clusters for t in cluster]


def rows(html):
    return html.count('<li data-track-id=')


@pytest.mark.django_db
class TestSearchPages:
    def test_the_first_page_says_how_many_match_and_offers_more(self, owner_client, many_matches):
        response = owner_client.get(reverse("search"), {"q": "wave"}, HTTP_HX_REQUEST="true")
        html = response.content.decode()
        assert len(response.context["tracks"]) == 20 and rows(html) == 20
        assert "45 tracks match “wave”" in html and "More results" in html and "20 of 45 shown" in html

    def test_more_results_over_htmx_are_the_next_rows_alone_until_the_last_page(self, owner_client, many_matches):
        seen = set(titles(owner_client.get(reverse("search"), {"q": "wave"})))
        second = owner_client.get(reverse("search"), {"q": "wave", "page": 2}, HTTP_HX_REQUEST="true")
        html = second.content.decode()
        assert "<ul" not in html and "match “wave”" not in html and rows(html) == 20 and "More results" in html
        third = owner_client.get(reverse("search"), {"q": "wave", "page": 3}, HTTP_HX_REQUEST="true")
        assert rows(third.content.decode()) == 5 and "More results" not in third.content.decode()
        every = seen | set(titles(second)) | set(titles(third))
        assert len(every) == 45  # no track twice, none left out

    def test_without_javascript_more_results_is_a_link_that_keeps_the_seeds(self, owner_client, many_matches):
        seed = many_matches[0]
        page = owner_client.get(reverse("search"), {"q": "wave", "seed": seed.pk}).content.decode()
        assert f'href="/search/?q=wave&amp;page=2&amp;seed={seed.pk}"' in page
        assert 'hx-get="/search/?q=wave&amp;page=2"' in page  # HTMX takes the seeds from the chips instead
        second = owner_client.get(reverse("search"), {"q": "wave", "page": 2, "seed": seed.pk})
        assert "<html" in second.content.decode() and "these are 21–40" in second.content.decode()
        assert [t.pk for t in second.context["seeds"]] == [seed.pk]

    @pytest.mark.parametrize("page, message", [("x", "A page is a whole number"), ("0", "A page is a whole number"),
                                               ("99999", "never more than")])
    def test_a_page_it_cannot_take_is_a_400_that_says_why(self, owner_client, many_matches, page, message):
        response = owner_client.get(reverse("search"), {"q": "wave", "page": page})
        assert response.status_code == 400 and message in response.content.decode()


@pytest.mark.django_db
class TestChosenSeeds:
    def test_the_search_form_searches_in_place_and_sends_the_chips_along(self, owner_client, many_matches):
        page = owner_client.get(reverse("home")).content.decode()
        form = page[page.index('<form method="get" action="/search/"'):]
        form = form[:form.index(">")]
        assert 'hx-get="/search/"' in form and 'hx-include="#seed-chips"' in form

    def test_a_search_without_javascript_keeps_the_chosen_seeds_as_chips_and_hidden_inputs(self, owner_client,
                                                                                           many_matches):
        first, second = many_matches[0], many_matches[20]
        response = owner_client.get(reverse("search"), {"q": "wave", "seed": [first.pk, second.pk]})
        page = response.content.decode()
        chips = page[page.index('id="seed-chips"'):page.index("Find the throughline")]
        assert f'name="seed" value="{first.pk}"' in chips and f'name="seed" value="{second.pk}"' in chips
        noscript = page[page.index("<noscript>"):page.index("</noscript>")]
        assert noscript.count('name="seed"') == 2

    def test_the_chosen_seeds_can_go_to_the_blind_comparison_of_models(self, owner_client, many_matches):
        page = owner_client.get(reverse("search"), {"q": "wave"}).content.decode()
        form = page[page.index('id="new-station"'):]
        form = form[: form.index("</form>")]
        assert 'formmethod="get" formaction="/compare/"' in form and "Compare two models by ear" in form
        assert "{#" not in page and "#}" not in page  # no template comment leaks onto the page

    def test_a_chosen_track_is_marked_and_cannot_be_added_again(self, owner_client, many_matches):
        chosen = Track.objects.get(title="C0 T0")
        page = owner_client.get(reverse("search"), {"q": "c0", "seed": chosen.pk}, HTTP_HX_REQUEST="true")
        html = page.content.decode()
        row = html[html.index(f'<li data-track-id="{chosen.pk}"'):]
        row = row[:row.index("</li>")]
        assert "disabled" in row and "Chosen" in row and "+ seed" not in row
        assert html.count("+ seed") == 14

    def test_add_and_drop_change_the_seeds_of_a_page_without_javascript(self, owner_client, many_matches):
        a, b = many_matches[0].pk, many_matches[1].pk
        seeds = owner_client.get(reverse("search"), {"q": "wave", "seed": a, "add": b}).context["seeds"]
        assert [t.pk for t in seeds] == [a, b]
        seeds = owner_client.get(reverse("search"), {"q": "wave", "seed": [a, b], "add": a}).context["seeds"]
        assert [t.pk for t in seeds] == [a, b]  # never twice
        seeds = owner_client.get(reverse("search"), {"q": "wave", "seed": [a, b], "drop": a}).context["seeds"]
        assert [t.pk for t in seeds] == [b]

    def test_an_eleventh_seed_is_a_400_that_says_why(self, owner_client, many_matches):
        ten = [t.pk for t in many_matches[:10]]
        response = owner_client.get(reverse("search"), {"q": "wave", "seed": ten, "add": many_matches[10].pk})
        assert response.status_code == 400 and "at most 10 songs" in response.content.decode()

    def test_the_chip_endpoint_adds_nothing_for_a_chosen_track(self, owner_client, many_matches):
        track = many_matches[3]
        url = reverse("seed_chip", args=[track.pk])
        assert owner_client.get(url, {"seed": [many_matches[0].pk]}).status_code == 200
        response = owner_client.get(url, {"seed": [many_matches[0].pk, track.pk]}, HTTP_HX_REQUEST="true")
        assert response.status_code == 204 and response.content == b""

    def test_the_chip_endpoint_refuses_an_eleventh(self, owner_client, many_matches):
        url = reverse("seed_chip", args=[many_matches[10].pk])
        response = owner_client.get(url, {"seed": [t.pk for t in many_matches[:10]]}, HTTP_HX_REQUEST="true")
        assert response.status_code == 400 and "remove one before adding another" in response.content.decode()

    def test_a_station_posted_with_a_seed_twice_has_it_once(self, owner_client, owner, many_matches):
        a, b = many_matches[0].pk, many_matches[1].pk
        response = owner_client.post(reverse("station_list"), {"seed": [a, b, a]})
        assert response.status_code == 302
        assert [t.pk for t in owner.stations.get().ordered_seeds()] == [a, b]

    def test_a_seed_that_can_no_longer_be_one_is_left_out_of_the_chips(self, owner_client, many_matches):
        a, b = many_matches[0], many_matches[1]
        Track.objects.filter(pk=b.pk).update(hidden=True)
        seeds = owner_client.get(reverse("search"), {"q": "wave", "seed": [a.pk, b.pk]}).context["seeds"]
        assert [t.pk for t in seeds] == [a.pk]
