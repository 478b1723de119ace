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
