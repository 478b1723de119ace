"""Picking seeds in a real Chromium: Enter searches in place and keeps the chips, a chip is chosen once,
"More results" pages on; and the same without JavaScript."""

import re

import pytest
from playwright.sync_api import expect

from taste.stations.models import Station
from tests.browser import sign_up
from tests.catalogue import make_catalogue
from tracks.models import Track

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEARCH = "Search title, artist or album…"


def row(page, track):
    return page.locator(f'.search-results li[data-track-id="{track.pk}"]')


@pytest.fixture
def catalogue(db):
    _, clusters = make_catalogue(clusters=3, per_cluster=15)
    Track.objects.update(album="Wave Album")  # 45 tracks match "wave"
    return clusters


def test_enter_keeps_the_chips_and_a_chip_is_chosen_once(page, catalogue):
    first, second = catalogue[0][0], catalogue[0][1]
    sign_up(page, "picker")
    page.evaluate("window.stillTheSamePage = true")  # gone if anything below loads a new page
    box = page.get_by_placeholder(SEARCH)

    box.fill("C0")
    row(page, first).get_by_role("button", name="+ seed").click()
    expect(page.locator("#seed-chips .chip")).to_have_count(1)
    expect(row(page, first).locator("button.chip-add")).to_be_disabled()
    expect(row(page, first).locator("button.chip-add")).to_have_text("Chosen")

    row(page, second).get_by_role("button", name="+ seed").dblclick()
    expect(page.locator(f'#seed-chips .chip[data-track-id="{second.pk}"]')).to_have_count(1)
    # A chip that reaches the page twice anyway (the server was not told of the first) is dropped.
    page.evaluate(
        "url => htmx.ajax('GET', url, {target: '#seed-chips', swap: 'beforeend'})", f"/search/seed/{second.pk}/"
    )
    expect(page.locator("#seed-chips .chip")).to_have_count(2)
    assert page.locator(f'#seed-chips .chip[data-track-id="{second.pk}"]').count() == 1

    box.fill("C1")
    box.press("Enter")
    expect(page.locator(".search-results li").first).to_contain_text("C1")
    expect(page.locator("#seed-chips .chip")).to_have_count(2)
    box.fill("C0")
    box.press("Enter")
    expect(row(page, first).locator("button.chip-add")).to_have_text("Chosen")  # told by the server this time
    expect(row(page, first).locator("button.chip-add")).to_be_disabled()

    page.locator(f'#seed-chips .chip[data-track-id="{first.pk}"] .chip-remove').click()
    expect(page.locator("#seed-chips .chip")).to_have_count(1)
    expect(row(page, first).get_by_role("button", name="+ seed")).to_be_enabled()
    assert page.evaluate("window.stillTheSamePage") is True

    # The blind comparison takes the seeds that are chips now, and nothing else: no token in its address.
    page.get_by_role("button", name="Compare two models by ear").click()
    expect(page).to_have_url(re.compile(rf"/compare/\?seed={second.pk}$"))
    # This catalogue has heard its tracks through one model only, which the comparison says in a sentence.
    expect(page.locator("main")).to_contain_text("A comparison needs two models that have heard all of these seeds")
    assert page.evaluate("window.stillTheSamePage") is True  # a boosted navigation: the player plays on
    page.go_back()
    expect(page.locator("#seed-chips .chip")).to_have_count(1)

    page.get_by_role("button", name="Find the throughline").click()
    expect(page.locator("#seed-rail")).to_be_visible()
    assert [t.pk for t in Station.objects.get().ordered_seeds()] == [second.pk]


def test_more_results_append_the_next_page_and_keep_the_chips(page, catalogue):
    sign_up(page, "pager")
    page.evaluate("window.stillTheSamePage = true")
    box = page.get_by_placeholder(SEARCH)
    box.fill("wave")
    box.press("Enter")
    expect(page.locator(".search-results li[data-track-id]")).to_have_count(20)
    expect(page.locator("#result-count")).to_contain_text("45 tracks match")
    page.locator(".search-results li[data-track-id]").first.get_by_role("button", name="+ seed").click()
    expect(page.locator("#seed-chips .chip")).to_have_count(1)

    page.get_by_role("link", name="More results").click()
    expect(page.locator(".search-results li[data-track-id]")).to_have_count(40)
    # The keyboard goes on at the first new track.
    twenty_first = page.locator(".search-results li[data-track-id]").nth(20)
    expect(twenty_first.locator(".track-name")).to_be_focused()
    page.get_by_role("link", name="More results").click()
    expect(page.locator(".search-results li[data-track-id]")).to_have_count(45)
    expect(page.get_by_role("link", name="More results")).to_have_count(0)
    ids = page.locator(".search-results li[data-track-id]").evaluate_all("els => els.map(e => e.dataset.trackId)")
    assert len(set(ids)) == 45
    expect(page.locator("#seed-chips .chip")).to_have_count(1)
    assert page.evaluate("window.stillTheSamePage") is True


def test_without_javascript_the_seeds_survive_every_search(browser, live_server, catalogue):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    first, second = catalogue[0][0], catalogue[1][0]
    sign_up(page, "plain")
    box = page.get_by_placeholder(SEARCH)
    box.fill("C0")
    box.press("Enter")
    row(page, first).get_by_role("button", name="+ seed").click()
    expect(page.locator("#seed-chips .chip")).to_have_count(1)
    box = page.get_by_placeholder(SEARCH)
    box.fill("C1")
    box.press("Enter")
    expect(page.locator("#seed-chips .chip")).to_have_count(1)
    row(page, second).get_by_role("button", name="+ seed").click()
    expect(page.locator("#seed-chips .chip")).to_have_count(2)
    expect(row(page, second).locator("button.chip-add")).to_be_disabled()
    page.locator(f'#seed-chips .chip[data-track-id="{first.pk}"] .chip-remove').click()
    expect(page.locator("#seed-chips .chip")).to_have_count(1)

    page.get_by_role("button", name="Find the throughline").click()
    expect(page.locator("#seed-rail")).to_be_visible()
    assert [t.pk for t in Station.objects.get().ordered_seeds()] == [second.pk]
    context.close()
