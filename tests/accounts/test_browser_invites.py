"""The first run in a real Chromium: the first visitor becomes the administrator, makes an invite link, and
someone else joins with it."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from discovery.accounts.models import Invite
from tests.browser import sign_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_first_visitor_administers_the_site_and_invites_a_friend(page, browser, live_server):
    page.goto("/accounts/login/")
    expect(page.locator("#signup-hint")).to_contain_text("the first one becomes this site's administrator")
    sign_up(page, "ada")
    expect(page.locator(".messages")).to_contain_text("You are this site's administrator")
    expect(page.locator("#corpus-empty")).to_contain_text("manage.py ingest_folder")

    page.get_by_role("link", name="invite people").click()
    page.get_by_label("Note").fill("for Bob")
    page.get_by_role("button", name="Make an invite link").click()
    invite = page.locator("#open-invites .invite")
    expect(invite).to_have_count(1)
    expect(invite).to_contain_text("for Bob")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    invite.get_by_role("button", name="Copy").click()
    expect(invite.get_by_role("button", name="Copied")).to_be_visible()
    link = page.evaluate("navigator.clipboard.readText()")
    assert link == invite.get_by_label("Invite link").input_value()
    assert link.startswith(f"{live_server.url}/accounts/signup/?invite=")

    friend = browser.new_context().new_page()
    friend.goto(f"{live_server.url}/accounts/signup/")  # without the link: by invitation only
    expect(friend.locator("#signup-refused")).to_contain_text("ask an administrator of this site for an invite link")
    friend.goto(link)
    expect(friend.locator("#signup")).to_contain_text("ada invited you")
    sign_up(friend, "bob", url=link)
    expect(friend.locator(".messages")).to_have_count(0)
    expect(friend.get_by_role("link", name="Invites")).to_have_count(0)
    friend.context.close()

    bob = get_user_model().objects.get(username="bob")
    assert not bob.is_staff and Invite.objects.get().used_by == bob
    page.reload()
    expect(page.locator("#open-invites .invite")).to_have_count(0)
    expect(page.locator("#used-invites")).to_contain_text("bob")
