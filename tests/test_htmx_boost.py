"""The boosted site: whole pages for boosted navigation and history restores, fragments for explicit HTMX calls;
the admin opens as its own page; a boosted form's 400 shows its sentence."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.catalogue import make_catalogue
from tests.conftest import PASSWORD

FRAGMENT = {"HTTP_HX_REQUEST": "true"}
BOOSTED = {"HTTP_HX_REQUEST": "true", "HTTP_HX_BOOSTED": "true"}
HISTORY_RESTORE = {"HTTP_HX_REQUEST": "true", "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"}


@pytest.mark.django_db
class TestWholePageOrFragment:
    def test_an_explicit_htmx_search_gets_the_fragment(self, owner_client):
        make_catalogue(clusters=1, per_cluster=2)
        page = owner_client.get(reverse("search"), {"q": "C0"}, **FRAGMENT).content.decode()
        assert "<html" not in page and "C0 T0" in page

    @pytest.mark.parametrize("headers", [BOOSTED, HISTORY_RESTORE], ids=["boosted", "history restore"])
    def test_a_boosted_or_restored_page_is_the_whole_page_with_the_player(self, owner_client, headers):
        make_catalogue(clusters=1, per_cluster=2)
        page = owner_client.get(reverse("search"), {"q": "C0"}, **headers).content.decode()
        assert "<html" in page and 'id="player"' in page and "C0 T0" in page

    def test_a_boosted_bad_value_is_the_whole_400_page(self, owner_client):
        response = owner_client.post(reverse("station_list"), {"seed": "x"}, **BOOSTED)
        assert response.status_code == 400
        assert "<html" in response.content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_admin_opens_as_its_own_page_and_a_boosted_400_says_why(page, live_server, django_user_model):
    django_user_model.objects.create_user("curator", password=PASSWORD, is_staff=True, is_superuser=True)
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("curator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#player")).to_be_attached()

    page.get_by_role("link", name="Admin").click()
    expect(page).to_have_url(f"{live_server.url}/admin/")
    expect(page.locator("#site-name")).to_be_visible()  # the admin's own layout, styled by its own CSS
    assert page.evaluate("getComputedStyle(document.querySelector('#header')).display") != "inline"

    page.goto("/")
    page.evaluate("window.stillTheSameDocument = true")
    # A form the browser lets through with a value the server refuses: the site answers 400 with a sentence,
    # and the boosted page shows it rather than nothing.
    page.evaluate(
        """() => {
            const form = document.createElement("form");
            form.method = "post"; form.action = "/stations/";
            form.innerHTML = '<input name="seed" value="not-a-number"><button id="go">go</button>';
            document.getElementById("main").append(form);
            htmx.process(form);
        }"""
    )
    page.locator("#go").click()
    expect(page.locator("#main")).to_contain_text("That did not work")  # the site's 400 page…
    expect(page.locator("#main")).to_contain_text("not-a-number")  # …with the sentence about the value sent
    assert page.evaluate("window.stillTheSameDocument") is True
