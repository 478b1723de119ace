"""Artwork in a real Chromium: the track page's cover, and every result's picture or tile, decode as images."""

import pytest
from playwright.sync_api import expect

from tests.artwork_samples import picture_bytes
from tests.browser import sign_up
from tests.catalogue import make_catalogue
from tracks.artwork import store_picture
from tracks.models import Track

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOADED = "img => img.complete && img.naturalWidth > 0 ? [img.naturalWidth, img.currentSrc] : null"


def test_covers_and_tiles_show_on_the_track_page_and_the_station(page, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    _, clusters = make_catalogue()
    covered = clusters[0][0]
    Track.objects.filter(pk=covered.pk).update(artwork_sha256=store_picture(picture_bytes((200, 40, 40))))
    sign_up(page, "listener")

    page.goto(f"/tracks/{covered.pk}/")
    cover = page.locator(".track-page img.artwork.large")
    expect(cover).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=cover.element_handle())
    assert cover.evaluate(LOADED)[0] == 320  # the stored JPEG thumbnail

    page.locator(".track-page form").get_by_role("button", name="More like this").click()
    results = page.locator("#results .result")
    expect(results).to_have_count(20)
    assert "♪" not in page.locator("#results").inner_text()
    for index in range(3):  # above the fold, so loaded at once despite loading="lazy"
        image = results.nth(index).locator("img.artwork")
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        width, source = image.evaluate(LOADED)
        assert width > 0 and "/artwork/?size=" in source
    play = results.first.locator("button[data-play]")
    assert play.get_attribute("data-art").endswith("/artwork/?size=large")
