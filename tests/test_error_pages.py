"""The site's own 404 and 500 pages: styled like the rest, and saying what happened in words."""

import pytest
from django.test import RequestFactory
from django.views.defaults import server_error


@pytest.mark.django_db
def test_a_missing_page_is_a_404_in_the_sites_layout(owner_client):
    response = owner_client.get("/no/such/page/")
    page = response.content.decode()
    assert response.status_code == 404 and 'class="topbar"' in page
    assert "There is nothing here" in page and 'href="/"' in page


@pytest.mark.django_db
def test_another_users_object_gets_the_same_404_page(owner_client):
    response = owner_client.get("/stations/999999/")
    assert response.status_code == 404 and "There is nothing here" in response.content.decode()


def test_a_server_error_is_a_500_page_that_needs_no_database():
    response = server_error(RequestFactory().get("/"))
    page = response.content.decode()
    assert response.status_code == 500 and "Something went wrong on our side" in page
    assert "css/site.css" in page
