"""Inventing a slider in a real Chromium: create it, rate what it proposes, and sort by it once it lights."""

import re

import pytest
from playwright.sync_api import expect

from taste.sliders.models import Slider
from tests.browser import sign_up
from tests.catalogue import make_catalogue
from tests.sliders.ratings import hidden_direction_ratings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_listener_teaches_a_slider_and_sorts_by_it(page):
    _, clusters = make_catalogue(clusters=4, per_cluster=15)
    _, _, ratings = hidden_direction_ratings([t for cluster in clusters for t in cluster])
    sign_up(page, "inventor")

    page.get_by_role("link", name="Sliders").click()
    page.get_by_label("Word").fill("dreamy")
    page.get_by_label("A 1 means").fill("not dreamy at all")
    page.get_by_label("A 5 means").fill("completely dreamy")
    page.get_by_role("button", name="Create slider").click()
    expect(page.get_by_role("heading", name="dreamy", exact=True)).to_be_visible()
    expect(page.locator("#slider-status")).to_have_attribute("data-lit", "false")
    expect(page.locator("#ranking-dark")).to_be_visible()

    rated = 0
    while page.locator("#slider-status").get_attribute("data-lit") == "false" and rated < 40:
        items = page.locator("#rate-queue .rate-item")
        if items.count() == 0:
            page.get_by_role("button", name="Propose other tracks").click()
            expect(page.locator("#rate-queue .rate-item").first).to_be_visible()
            continue
        item = items.first
        track_id = int(item.get_attribute("data-track-id"))
        item.locator(f'button[name="value"][value="{ratings[track_id]}"]').click()
        rated += 1
        expect(page.locator(f'#rate-queue .rate-item[data-track-id="{track_id}"]')).to_have_count(0)
        expect(page.locator("#slider-status")).to_contain_text(re.compile(rf"\b{rated} ratings? so far"))
    assert Slider.objects.get().lit, f"still dark after {rated} ratings"

    page.reload()
    most = page.locator(".slider-ranking li").evaluate_all("els => els.map(e => e.dataset.trackId)")
    assert len(most) == 20
    page.get_by_role("link", name="Least dreamy").click()
    expect(page.locator(".slider-ranking")).to_have_attribute("data-order", "low")
    least = page.locator(".slider-ranking li").evaluate_all("els => els.map(e => e.dataset.trackId)")
    assert least[0] != most[0] and not set(least[:5]) & set(most[:5])
    top_ratings = [ratings[int(pk)] for pk in most[:5]]
    bottom_ratings = [ratings[int(pk)] for pk in least[:5]]
    assert min(top_ratings) > max(bottom_ratings)
