"""Searching iTunes from the site and importing the chosen hits, against a local stand-in for Apple's API."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from discovery.library import itunes_search
from discovery.library.models import ImportJob
from tests.audio_samples import write_clip
from tests.test_ingest_itunes import FakeITunes, song
from tracks.models import Track

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_itunes(tmp_path, settings):
    preview = write_clip(tmp_path / "preview.m4a", seconds=1.5, codec="aac").read_bytes()
    results = [
        song(101, "First Light"),
        song(102, "Second Wind"),
        song(103, "Missing Preview"),  # its preview answers 404
        song(105, "No Preview", preview=False),
    ]
    with FakeITunes({101: preview, 102: preview}, results) as fake:
        settings.ITUNES_BASE_URL = fake.base
        settings.ITUNES_REQUESTS_PER_MINUTE = 0
        yield fake


def search(client, term="test", country="us", htmx=False):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.get(reverse("library_itunes"), {"term": term, "country": country}, headers=headers)


def import_songs(client, *ids, term="test", country="US"):
    return client.post(reverse("library_itunes_import"), {"term": term, "country": country, "track": list(ids)})


def test_the_search_shows_hits_with_title_artist_artwork_preview_and_a_checkbox(staff_client, fake_itunes):
    response = search(staff_client)
    page = response.content.decode()
    assert response.status_code == 200 and "<h1>Import iTunes previews</h1>" in page
    for track_id, title in [(101, "First Light"), (102, "Second Wind"), (103, "Missing Preview")]:
        assert f'<input type="checkbox" name="track" value="{track_id}"' in page and title in page
        assert f'src="https://artwork.example/{track_id}/100x100bb.jpg"' in page
        assert f'data-play data-src="{fake_itunes.base}/previews/{track_id}.m4a"' in page
    assert "No Preview" not in page  # nothing to import
    assert "Test Artist" in page and "Test Album" in page
    search_request = next(p for p in fake_itunes.requests if p.startswith("/search"))
    assert "country=US" in search_request and "term=test" in search_request


def test_an_htmx_search_answers_the_hits_alone(staff_client, fake_itunes):
    html = search(staff_client, htmx=True).content.decode()
    assert "<html" not in html and 'name="track" value="101"' in html


def test_a_song_already_in_the_catalogue_is_marked_and_cannot_be_chosen_again(staff_client, fake_itunes):
    Track.objects.create(title="First Light", source="itunes", source_key="101", status="ready")
    page = search(staff_client).content.decode()
    assert 'value="101" id="hit-101" disabled>' in page and "in the catalogue" in page


def test_a_bad_store_is_refused_with_a_sentence(staff_client, fake_itunes):
    response = search(staff_client, country="USA")
    assert response.status_code == 400
    assert "The store is a two-letter country code such as US or GB." in response.content.decode()
    assert not fake_itunes.requests


def test_apple_refusing_is_said_in_words(staff_client, fake_itunes):
    fake_itunes.search_failures = [403]
    response = search(staff_client)
    assert response.status_code == 502
    assert "The iTunes search did not work:" in response.content.decode() and "HTTP 403" in response.content.decode()


def test_searches_share_one_client_per_process_at_the_configured_rate(fake_itunes, settings):
    settings.ITUNES_REQUESTS_PER_MINUTE = 12
    client = itunes_search._client()
    assert client is itunes_search._client() and client.requests_per_minute == 12


def test_the_chosen_hits_are_imported_in_a_job_and_queued_for_embedding(
    staff_client, staff, fake_itunes, spectral_model
):
    response = import_songs(staff_client, 101, 102)
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("library_job", args=[job.pk])
    assert (job.kind, job.status, job.created_by) == ("itunes", "done", staff)
    assert job.params == {"term": "test", "country": "US", "limit": 50, "ids": [101, 102]}
    assert (job.total, job.done, job.added, job.failed_count) == (2, 2, 2, 0)
    downloads = sorted(p for p in fake_itunes.requests if p.startswith("/previews/"))
    assert downloads == ["/previews/101.m4a", "/previews/102.m4a"]  # the others were not chosen
    tracks = Track.objects.order_by("source_key")
    assert [(t.source_key, t.title, t.status) for t in tracks] == [
        ("101", "First Light", "ready"), ("102", "Second Wind", "ready"),
    ]
    assert "iTunes: 2 songs found by “test”" in staff_client.get(job.get_absolute_url()).content.decode()


def test_a_failed_download_is_listed_and_retried(staff_client, fake_itunes, spectral_model, tmp_path):
    import_songs(staff_client, 101, 103)
    job = ImportJob.objects.get()
    assert (job.added, job.failed_count) == (1, 1)
    assert "Missing Preview" in job.failures[0]["item"] and "HTTP 404" in job.failures[0]["reason"]

    fake_itunes.previews[103] = write_clip(tmp_path / "later.m4a", seconds=1.5, codec="aac").read_bytes()
    staff_client.post(reverse("library_job_retry", args=[job.pk]))
    retry = ImportJob.objects.latest("pk")
    assert retry.retry_of == job and retry.params["ids"] == [103]
    assert (retry.status, retry.updated, retry.failed_count) == ("done", 1, 0)
    assert Track.objects.get(source_key="103").status == "ready"


def test_a_search_that_apple_refuses_during_the_import_fails_the_job_with_the_reason(staff_client, fake_itunes):
    fake_itunes.search_failures = [403] * 10
    import_songs(staff_client, 101)
    job = ImportJob.objects.get()
    assert job.status == "failed" and job.error.startswith("The iTunes search failed:") and "403" in job.error
    assert job.get_absolute_url()
    html = staff_client.get(reverse("library_job_progress", args=[job.pk])).content.decode()
    assert escape(job.error) in html and "Retry the failed ones" in html


@pytest.mark.parametrize(
    "ids, message",
    [((), "Choose at least one song to import."), (("abc",), "“abc” is not an iTunes song id.")],
)
def test_an_import_without_good_ids_is_refused(staff_client, fake_itunes, ids, message):
    response = import_songs(staff_client, *ids)
    assert response.status_code == 400 and message in response.content.decode()
    assert not ImportJob.objects.exists()
