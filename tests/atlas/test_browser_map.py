"""The map in a real Chromium (WebGL through SwiftShader): points drawn, hover names a track, a click plays it
in the site's player, a lasso makes a station, search finds a track."""

import pytest
from playwright.sync_api import expect

from discovery.atlas.builder import build_map
from taste.stations.models import Station
from tests.browser import sign_up
from tests.catalogue import make_catalogue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def map_page(page, tmp_path, settings):
    settings.MAP_DIR = tmp_path / "maps"
    _, clusters = make_catalogue(audio_dir=tmp_path)
    build_map()
    sign_up(page, "listener")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/map/")
    expect(page.locator("#map-root")).to_have_attribute("data-drawn", "36")
    # The whole plot above the player bar, which covers the bottom of the window.
    page.evaluate("document.getElementById('map-stage').scrollIntoView({block: 'start'})")
    return clusters


def screen_point(page, track_id):
    box = page.locator("#map-canvas").bounding_box()
    x, y = page.evaluate(f"window.wavelengthMap.screenOf({track_id})")
    return box["x"] + x, box["y"] + y


def test_the_map_draws_every_point(page, map_page):
    assert page.evaluate("window.wavelengthMap.points") == 36
    # Something other than the background was painted on the WebGL canvas.
    painted = page.evaluate(
        """() => { const c = document.getElementById('map-canvas'); const t = document.createElement('canvas');
        t.width = c.width; t.height = c.height; const g = t.getContext('2d'); g.drawImage(c, 0, 0);
        const d = g.getImageData(0, 0, t.width, t.height).data; const seen = new Set();
        for (let i = 0; i < d.length; i += 4 * 97) seen.add(d[i] + ',' + d[i + 1] + ',' + d[i + 2]);
        return seen.size; }"""
    )
    assert painted > 1


def test_hover_names_the_track_and_a_click_plays_it(page, map_page):
    track = map_page[1][3]
    x, y = screen_point(page, track.pk)
    page.mouse.move(x - 30, y - 30)
    page.mouse.move(x, y, steps=5)
    tooltip = page.locator("#map-tooltip")
    expect(tooltip).to_be_visible()
    expect(tooltip).to_contain_text(track.title)
    page.mouse.click(x, y)
    page.wait_for_function(
        f"() => window.wavelengthPlayer && window.wavelengthPlayer.queue[window.wavelengthPlayer.index] == '{track.pk}'"
    )
    expect(page.locator("#player .player-title")).to_have_text(track.title)
    expect(page.locator("#map-card")).to_contain_text("Seed a station")


def test_a_lasso_makes_a_station_from_the_selection(page, map_page):
    cluster = map_page[0]
    points = [screen_point(page, t.pk) for t in cluster]
    left, right = min(p[0] for p in points) - 8, max(p[0] for p in points) + 8
    top, bottom = min(p[1] for p in points) - 8, max(p[1] for p in points) + 8
    page.keyboard.down("Shift")
    page.mouse.move(left, top)
    page.mouse.down()
    for x, y in [(right, top), (right, bottom), (left, bottom), (left, top + 1)]:
        page.mouse.move(x, y, steps=8)
    page.mouse.up()
    page.keyboard.up("Shift")
    expect(page.locator("#map-selection")).to_be_visible()
    page.get_by_role("button", name="Start a station from the selection").click()
    expect(page.locator("#results .result").first).to_be_visible()
    station = Station.objects.get(owner__username="listener")
    seeds = set(station.seed_links.values_list("track_id", flat=True))
    assert seeds and seeds <= {t.pk for c in map_page for t in c}
    assert len(seeds & {t.pk for t in cluster}) >= len(seeds) // 2


def test_search_locates_a_track(page, map_page):
    page.get_by_label("Find on the map").fill("C2 T5")
    page.get_by_role("button", name="Find", exact=True).click()
    expect(page.locator("#map-card")).to_contain_text("C2 T5")
    expect(page.locator("#map-found")).to_contain_text("C2 T5")
