"""An album's and an artist's pages in a real Chromium: Play all plays the first track in the site's player and
queues the rest once each; a station starts from an album."""

import pytest
from playwright.sync_api import expect

from taste.stations.forms import MAX_SEEDS
from taste.stations.models import Station
from tests.browser import sign_up
from tests.catalogue import make_catalogue
from tracks.models import Track

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_play_all_and_a_station_from_an_album(page, tmp_path):
    _, clusters = make_catalogue(clusters=2, per_cluster=12, audio_dir=tmp_path)
    members = clusters[0] + clusters[1][:2]
    Track.objects.filter(pk__in=[t.pk for t in members]).update(album="Long Player", artist="Band A; Band B")
    sign_up(page, "browser")

    page.goto("/albums/")
    page.get_by_placeholder("Search albums or their artists…").fill("long")
    page.get_by_role("link", name="Long Player").click()
    expect(page.locator("h1")).to_have_text("Long Player")
    rows = page.locator(".track-list li[data-track-id]")
    expect(rows).to_have_count(14)
    first_id = rows.first.get_attribute("data-track-id")

    page.get_by_role("button", name="Play all").click()
    page.wait_for_function("() => document.getElementById('player-audio').currentTime > 0.2")
    src = page.evaluate("document.getElementById('player-audio').src")
    assert src.endswith(f"/tracks/{first_id}/audio/")
    page.get_by_role("button", name="Next track").click()  # the second track, not the first again
    second_id = rows.nth(1).get_attribute("data-track-id")
    page.wait_for_function(
        "id => document.getElementById('player-audio').src.endsWith('/tracks/' + id + '/audio/')", arg=second_id
    )

    page.get_by_role("link", name="Band B").first.click()
    expect(page.locator("h1")).to_have_text("Band B")
    expect(page.locator(".track-list li[data-track-id]")).to_have_count(14)
    page.go_back()
    expect(page.locator("h1")).to_have_text("Long Player")

    page.get_by_role("button", name="Start a station from this album").click()
    expect(page.locator("#seed-rail")).to_be_visible()
    seeds = [t.pk for t in Station.objects.get().ordered_seeds()]
    assert len(seeds) == MAX_SEEDS and any(t.pk in seeds for t in clusters[1][:2])
