"""A listener's whole loop in a real Chromium: search, seeds, results, thumbs, knobs, preview, privacy."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from taste.stations.models import Station
from tests.browser import sign_up
from tests.catalogue import make_catalogue
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def result_ids(page):
    return page.locator("#results .result").evaluate_all("els => els.map(e => e.dataset.trackId)")


def test_a_listener_finds_steers_and_plays_a_station(page, tmp_path, browser, live_server):
    _, clusters = make_catalogue(audio_dir=tmp_path)
    first_seed, second_seed = clusters[0][0].pk, clusters[0][1].pk
    sign_up(page, "listener")

    page.get_by_placeholder("Search title, artist or album…").fill("C0")
    expect(page.locator(".search-results li").first).to_be_visible()
    page.locator(f'.search-results li[data-track-id="{first_seed}"]').get_by_role("button", name="+ seed").click()
    page.locator(f'.search-results li[data-track-id="{second_seed}"]').get_by_role("button", name="+ seed").click()
    expect(page.locator("#seed-chips .chip")).to_have_count(2)
    page.get_by_role("button", name="Find the throughline").click()

    expect(page.locator("#results .result")).to_have_count(20)
    page.evaluate("window.stillTheSamePage = true")  # gone if anything below reloads the page
    before = result_ids(page)

    liked = page.locator("#results .result").nth(5)
    liked_id = liked.get_attribute("data-track-id")
    liked.get_by_role("button", name="More like").click()
    expect(page.locator(f'#liked-rail li[data-track-id="{liked_id}"]')).to_be_visible()
    after_like = result_ids(page)
    assert after_like != before and liked_id not in after_like

    disliked_id = after_like[0]
    page.locator(f'#results .result[data-track-id="{disliked_id}"]').get_by_role("button", name="Not ").click()
    expect(page.locator(f'#results .result[data-track-id="{disliked_id}"]')).to_have_count(0)
    expect(page.locator(f'#disliked-rail li[data-track-id="{disliked_id}"]')).to_be_visible()
    # Undone from the rail, it leaves the rail (redrawn out of band with the list); so does a second thumb.
    page.locator(f'#disliked-rail li[data-track-id="{disliked_id}"]').get_by_role("button", name="Undo").click()
    expect(page.locator(f'#disliked-rail li[data-track-id="{disliked_id}"]')).to_have_count(0)
    expect(page.locator("#disliked-rail")).to_contain_text("Thumbed-down tracks leave for good.")
    page.locator(f'#results .result[data-track-id="{disliked_id}"]').get_by_role("button", name="Not ").click()
    expect(page.locator(f'#disliked-rail li[data-track-id="{disliked_id}"]')).to_be_visible()

    before_knob = result_ids(page)
    page.locator('input[name="explore"]').fill("1")  # fires input and change, as a drag does
    expect(page.locator("#results .result").first).not_to_have_attribute("data-track-id", before_knob[0])
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    assert result_ids(page) != before_knob
    assert page.evaluate("window.stillTheSamePage") is True
    assert Station.objects.get(owner__username="listener").explore == 1.0  # the knob was posted and saved

    new_seed = page.locator("#results .result").nth(2)
    new_seed_id = new_seed.get_attribute("data-track-id")
    new_seed.get_by_role("button", name="Make ").click()
    expect(page.locator(f'#seed-rail li[data-track-id="{new_seed_id}"]')).to_be_visible()
    expect(page.locator(f'#results .result[data-track-id="{new_seed_id}"]')).to_have_count(0)

    # "Rate" opens the rating widget under its result, and leaves the list alone.
    rated = page.locator("#results .result").nth(1)
    rated_id = rated.get_attribute("data-track-id")
    rated.get_by_role("button", name="Rate on my sliders").click()
    expect(page.locator(f"#rate-{rated_id}")).not_to_be_empty()
    assert page.locator("#results .result").nth(1).get_attribute("data-track-id") == rated_id

    page.locator("#results .result").first.locator("button[data-play]").click()  # plays in the site's player
    page.wait_for_function(
        "() => { const a = document.getElementById('player-audio'); return !a.paused && a.readyState >= 2; }"
    )

    station = Station.objects.get()
    get_user_model().objects.create_user("stranger", password=PASSWORD)
    stranger = browser.new_context(base_url=live_server.url).new_page()
    stranger.goto("/accounts/login/")
    stranger.get_by_label("Username").fill("stranger")
    stranger.get_by_label("Password").fill(PASSWORD)
    stranger.get_by_role("button", name="Log in").click()
    expect(stranger.locator(".username")).to_have_text("stranger")
    response = stranger.goto(f"/stations/{station.pk}/")
    assert response.status == 404
    stranger.context.close()
