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


def test_a_two_soundtrack_word_lights_within_ten_ratings_and_sorts_the_catalogue(page):
    """Rating "this soundtrack, not that one" as the rate-more queue proposes them: lit by the tenth rating."""
    _, (calm, wild) = make_catalogue(clusters=2, per_cluster=15)
    soundtrack = {t.pk: "calm" for t in calm} | {t.pk: "wild" for t in wild}
    sign_up(page, "teacher")
    page.goto("/sliders/")
    page.get_by_label("Word").fill("wild")
    page.get_by_label("A 1 means").fill("calm")
    page.get_by_label("A 5 means").fill("wild")
    page.get_by_role("button", name="Create slider").click()
    expect(page.get_by_role("heading", name="wild", exact=True)).to_be_visible()

    slider_url = page.url
    unrated = {"wild": [t.pk for t in wild], "calm": [t.pk for t in calm]}
    rated, wanted = 0, "wild"
    while page.locator("#slider-status").get_attribute("data-lit") == "false" and rated < 10:
        value = ("5" if rated % 4 else "4") if wanted == "wild" else ("1" if rated % 4 != 1 else "2")
        # The listener takes one of each in turn: from the rate-more queue when it proposes one, or else from
        # the track's own page, with the rating widget there.
        ids = page.locator("#rate-queue .rate-item").evaluate_all("els => els.map(e => +e.dataset.trackId)")
        choice = next((pk for pk in ids if soundtrack[pk] == wanted), None)
        if choice is not None:
            page.locator(f'#rate-queue .rate-item[data-track-id="{choice}"] button[value="{value}"]').click()
            rated += 1
            expect(page.locator("#slider-status")).to_contain_text(re.compile(rf"\b{rated} ratings? so far"))
        else:
            choice = unrated[wanted][0]
            page.goto(f"/tracks/{choice}/")
            row = page.locator(".rating-widget form.rating-buttons")
            row.get_by_role("button", name=re.compile(rf"^wild {value}")).click()
            rated += 1
            expect(row.locator(".verdict")).to_have_attribute("data-evaluating", "false")
            expect(row.get_by_role("button", name=re.compile(rf"^wild {value}"))).to_have_class("chosen")
            page.goto(slider_url)
        unrated[wanted].remove(choice)
        expect(page.locator("#slider-status")).to_have_attribute("data-evaluating", "false")
        if rated < 10 and page.locator("#slider-status").get_attribute("data-lit") == "false":
            expect(page.locator("#slider-status .needs")).to_contain_text(re.compile(r"Rate (at least|about) \w+ more"))
        wanted = "calm" if wanted == "wild" else "wild"
    assert Slider.objects.get().lit, f"still dark after {rated} ratings"
    assert rated <= 10
    lit_words = re.compile(r"orders them as you do \w+ times out of ten")
    expect(page.locator("#slider-status .needs")).to_contain_text(lit_words)

    page.reload()
    most = page.locator(".slider-ranking li").evaluate_all("els => els.map(e => e.dataset.trackId)")
    assert {soundtrack[int(pk)] for pk in most[:10]} == {"wild"}
    shown = [float(v) for v in page.locator(".slider-ranking .predicted").all_inner_texts()]
    assert all(1.0 <= v <= 5.0 for v in shown)
    page.get_by_role("link", name="Least wild").click()
    expect(page.locator(".slider-ranking")).to_have_attribute("data-order", "low")
    least = page.locator(".slider-ranking li").evaluate_all("els => els.map(e => e.dataset.trackId)")
    assert {soundtrack[int(pk)] for pk in least[:10]} == {"calm"}
    expect(page.locator('#slider-ends [data-end="high"] li').first).to_be_visible()
