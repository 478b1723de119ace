import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_newcomer_signs_up_and_lands_on_the_home_page(page):
    page.goto("/")
    expect(page).to_have_url("/accounts/login/?next=/")  # not signed in yet

    page.get_by_role("link", name="Create an account").click()
    expect(page).to_have_url("/accounts/signup/")  # a boosted navigation: wait until the new page is in
    page.get_by_label("Username").fill("newcomer")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()

    expect(page.get_by_role("heading", name="Find music by how it sounds")).to_be_visible()
    expect(page.locator(".username")).to_have_text("newcomer")
    expect(page.locator(".messages")).to_contain_text("You are this site's administrator")  # the first account
    assert page.url.endswith("/")
    assert get_user_model().objects.filter(username="newcomer").exists()


def test_logging_out_returns_to_the_log_in_page(page):
    get_user_model().objects.create_user("listener", password=PASSWORD)
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("listener")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".username")).to_have_text("listener")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
