"""Steps that several browser tests take."""

from playwright.sync_api import expect

from tests.conftest import PASSWORD


def sign_up(page, username, url="/accounts/signup/"):
    page.goto(url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator(".username")).to_have_text(username)
