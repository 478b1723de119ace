"""Add music is for staff: listeners get a 404 on every page of it, and only staff see the links to it."""

import pytest
from django.urls import reverse

from discovery.library.models import ImportJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(staff):
    return ImportJob.objects.create(kind=ImportJob.Kind.FOLDER, created_by=staff, params={"folders": ["/music"]})


def library_requests(job):
    return [
        ("get", reverse("library_home")),
        ("get", reverse("library_itunes") + "?term=x"),
        ("get", reverse("library_job", args=[job.pk])),
        ("get", reverse("library_job_progress", args=[job.pk])),
        ("post", reverse("library_scan_folder")),
        ("post", reverse("library_itunes_import")),
        ("post", reverse("library_upload")),
        ("post", reverse("library_job_retry", args=[job.pk])),
    ]


def test_a_listener_gets_404_everywhere(owner_client, job):
    for method, url in library_requests(job):
        response = getattr(owner_client, method)(url, {"folder": "/"} if method == "post" else None)
        assert response.status_code == 404, url
    assert ImportJob.objects.count() == 1


def test_a_visitor_who_is_not_signed_in_is_sent_to_log_in(client, job):
    for method, url in library_requests(job):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url


def test_staff_have_the_page_and_a_link_to_it_in_the_nav(staff_client):
    assert staff_client.get(reverse("library_home")).status_code == 200
    nav = staff_client.get(reverse("station_list")).content.decode()
    assert f'href="{reverse("library_home")}">Add music</a>' in nav


def test_listeners_see_no_link(owner_client):
    assert reverse("library_home") not in owner_client.get(reverse("home")).content.decode()


def test_the_empty_home_page_sends_staff_to_add_music(staff_client):
    page = staff_client.get(reverse("home")).content.decode()
    empty_state = page[page.index('id="corpus-empty"'):]
    assert f'href="{reverse("library_home")}">Add music</a>' in empty_state
