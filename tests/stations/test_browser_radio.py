"""The radio in a real Chromium: one player that keeps playing while the listener steers, navigates and types."""

import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from taste.stations.models import Play, Station
from taste.stations.services import create_station
from tests.audio_samples import music, write_clip
from tests.browser import sign_up
from tests.catalogue import make_catalogue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AUDIO = "document.getElementById('player-audio')"


def result_ids(page):
    return page.locator("#results .result").evaluate_all("els => els.map(e => e.dataset.trackId)")


def current_time(page) -> float:
    return page.evaluate(f"{AUDIO}.currentTime")


def wait_until_playing_past(page, seconds: float):
    page.wait_for_function(f"() => !{AUDIO}.paused && {AUDIO}.currentTime > {seconds}")


def playing_track(page) -> str:
    return page.evaluate("window.wavelengthPlayer.queue[window.wavelengthPlayer.index]")


@pytest.fixture
def radio(page, tmp_path):
    """A listener's station of two seeds over a catalogue whose tracks last 8 s each."""
    _, clusters = make_catalogue(audio_dir=tmp_path)
    for track in [t for cluster in clusters for t in cluster]:
        write_clip(Path(track.audio_path), seconds=8.0, signal=lambda s, r, k=track.pk: music(s, r, seed=k))
    sign_up(page, "listener")
    station = create_station(get_user_model().objects.get(username="listener"), [t.pk for t in clusters[0][:2]])
    page.goto(f"/stations/{station.pk}/")
    expect(page.locator("#results .result")).to_have_count(20)
    return station


def test_play_station_plays_one_audio_element_that_advances(page, radio):
    assert page.locator("audio").count() == 1  # one player for the whole site; results have play buttons
    assert page.locator("#results .result").first.locator("button[data-play]").count() == 1
    first = result_ids(page)[0]
    title = page.locator("#results .result .title").first.inner_text()

    page.get_by_role("button", name="Play station").click()
    wait_until_playing_past(page, 0.5)
    assert playing_track(page) == first
    expect(page.locator("#player .player-title")).to_have_text(title)


def test_a_thumb_while_playing_reranks_what_is_to_come_without_touching_the_music(page, radio):
    page.get_by_role("button", name="Play station").click()
    wait_until_playing_past(page, 0.3)
    page.evaluate(f"window.theAudio = {AUDIO}")
    playing = playing_track(page)
    expect(page.locator(f'#results .result[data-track-id="{playing}"]')).to_have_count(0)  # now playing: not next
    before = result_ids(page)
    heard = current_time(page)

    liked = page.locator("#results .result").nth(4)
    liked_id = liked.get_attribute("data-track-id")
    liked.get_by_role("button", name="More like this").click()
    expect(page.locator(f'#liked-rail li[data-track-id="{liked_id}"]')).to_be_visible()

    after = result_ids(page)
    assert after != before and liked_id not in after
    assert page.evaluate(f"window.theAudio === {AUDIO}")  # the same element…
    assert page.evaluate(f"!{AUDIO}.paused")  # …still playing…
    assert current_time(page) >= heard  # …from where it was, not from the start
    assert playing_track(page) == playing
    assert page.evaluate("window.wavelengthPlayer.queue.slice(1)") == after  # the radio follows the new list
    # What changed is said: new tracks are marked and the summary counts them.
    expect(page.locator("#rerank-summary")).to_contain_text("Re-ranked")
    new_ids = [i for i in after if i not in before]
    if new_ids:
        expect(page.locator(f'.result[data-track-id="{new_ids[0]}"] .change')).to_have_text("new")
    # Keyboard focus stays on the control that was used (its row left, so the same control of the next row).
    assert page.evaluate("document.activeElement.dataset.focusKey") == "up"


def test_the_music_keeps_playing_across_pages(page, radio):
    page.get_by_role("button", name="Play station").click()
    wait_until_playing_past(page, 0.3)
    page.evaluate(f"window.theAudio = {AUDIO}")
    page.evaluate("window.stillTheSameDocument = true")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Stations").click()
    expect(page).to_have_url(f"{page.url.split('/stations/')[0]}/stations/")
    heard = current_time(page)
    page.wait_for_function(f"() => {AUDIO}.currentTime > {heard + 0.3}")
    assert page.evaluate("window.stillTheSameDocument") is True
    assert page.evaluate(f"window.theAudio === {AUDIO} && !{AUDIO}.paused")


def test_it_advances_at_the_end_of_a_track_and_records_the_play(page, radio):
    page.get_by_role("button", name="Play station").click()
    wait_until_playing_past(page, 0.3)
    first = playing_track(page)
    page.evaluate(f"{AUDIO}.currentTime = {AUDIO}.duration - 0.4")
    page.wait_for_function(f"() => window.wavelengthPlayer.queue[window.wavelengthPlayer.index] !== '{first}'")
    wait_until_playing_past(page, 0.2)
    second = playing_track(page)
    assert second != first
    play = _wait_for_play(first)
    assert play.ended == Play.FINISHED and play.station_id == radio.pk
    queue = json.loads(page.evaluate(f"fetch('/stations/{radio.pk}/queue.json').then(r => r.text())"))
    assert queue["now"] == int(second)
    assert int(first) not in queue["next"] and int(second) not in queue["next"]  # no repeat within the span


def test_keyboard_shortcuts(page, radio):
    page.get_by_role("button", name="Play station").click()
    wait_until_playing_past(page, 0.3)
    page.locator("#results-heading").focus()
    first = playing_track(page)

    page.keyboard.press("n")
    page.wait_for_function(f"() => window.wavelengthPlayer.queue[window.wavelengthPlayer.index] !== '{first}'")
    skipped = _wait_for_play(first)
    assert skipped.ended == Play.SKIPPED and skipped.seconds < 30

    wait_until_playing_past(page, 0.2)
    page.keyboard.press(" ")
    page.wait_for_function(f"() => {AUDIO}.paused")

    now = playing_track(page)  # paused, so that it cannot end and give way to the next one meanwhile
    page.keyboard.press("+")
    expect(page.locator(f'#liked-rail li[data-track-id="{now}"]')).to_be_visible()
    expect(page.locator("#player [data-action=up]")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press(" ")
    page.wait_for_function(f"() => !{AUDIO}.paused")

    page.keyboard.press("?")
    expect(page.locator("#keys-dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#keys-dialog")).to_be_hidden()

    page.keyboard.press("/")
    expect(page.locator("input[type=search]")).to_be_focused()
    assert page.evaluate(f"!{AUDIO}.paused")  # going to the search did not stop the music


def test_each_result_is_at_most_three_tab_stops_and_a_skip_link_leads_to_them(page, radio):
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    stops = []
    for _ in range(7):
        page.keyboard.press("Tab")
        stops.append(page.evaluate("document.activeElement.closest('.result')?.dataset.trackId || null"))
    first, second = result_ids(page)[:2]
    assert stops[:3] == [first] * 3 and stops[3:6] == [second] * 3
    # Inside the steering toolbar (the first result's third stop) the arrow keys move.
    for _ in range(4):
        page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.dataset.focusKey") == "up"
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.dataset.focusKey") == "down"


def test_an_outsider_gets_no_queue(client, radio, django_user_model):
    django_user_model.objects.create_user("outsider", password="x-unused-9876")
    client.force_login(django_user_model.objects.get(username="outsider"))
    assert client.get(f"/stations/{radio.pk}/queue.json").status_code == 404
    assert Station.objects.filter(pk=radio.pk).exists()


def _wait_for_play(track_id: str, timeout_s: float = 10.0) -> Play:
    """The play the browser posted for `track_id` (it posts without waiting for an answer)."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        play = Play.objects.filter(track_id=int(track_id)).order_by("-recorded").first()
        if play is not None:
            return play
        time.sleep(0.1)
    raise AssertionError(f"No play of track {track_id} was recorded.")


def test_on_a_phone_the_first_track_is_above_the_fold_and_the_player_is_a_bottom_bar(page, radio):
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.get_by_role("button", name="Play station").click()
    wait_until_playing_past(page, 0.2)
    page.evaluate("window.scrollTo(0, 0)")
    layout = page.evaluate(
        """() => ({
            scrollWidth: document.documentElement.scrollWidth,
            firstTop: document.querySelector('#results .result').getBoundingClientRect().top,
            playerTop: document.getElementById('player').getBoundingClientRect().top,
            playerBottom: document.getElementById('player').getBoundingClientRect().bottom,
            smallestTarget: Math.min(...[...document.querySelectorAll('#player button:not([hidden]), .result button')]
                .filter(b => b.offsetParent).map(b => Math.min(b.offsetWidth, b.offsetHeight))),
        })"""
    )
    assert layout["scrollWidth"] <= 390
    assert 0 < layout["firstTop"] < layout["playerTop"]  # the first track shows above the player bar
    assert layout["playerBottom"] == 844
    small = page.evaluate(
        """() => [...document.querySelectorAll('#player button:not([hidden]), .result button')]
            .filter(b => b.offsetParent && Math.min(b.offsetWidth, b.offsetHeight) < 44)
            .map(b => b.outerHTML.slice(0, 80))"""
    )
    assert layout["smallestTarget"] >= 44, small


def test_after_a_full_reload_the_player_comes_back_where_it_was_paused(page, radio):
    page.get_by_role("button", name="Play station").click()
    wait_until_playing_past(page, 2.5)
    playing = playing_track(page)
    page.reload()  # a full load: a new document and a new audio element
    page.wait_for_function(f"() => {AUDIO}.readyState >= 1 && {AUDIO}.currentTime > 2")
    assert playing_track(page) == playing and page.evaluate(f"{AUDIO}.paused")
    expect(page.locator("#player [data-action=toggle]")).to_be_enabled()
    page.locator("#player [data-action=toggle]").click()
    wait_until_playing_past(page, 3)


def test_what_is_playing_can_be_rated_on_ones_sliders_from_the_player(page, radio):
    from taste.sliders.models import SliderRating
    from taste.sliders.services import create_slider

    slider = create_slider(radio.owner, name="dreamy", low_label="awake", high_label="dreamy", public=False)
    page.get_by_role("button", name="Play station").click()
    wait_until_playing_past(page, 0.3)
    playing = playing_track(page)
    page.locator("#player").get_by_role("button", name="Rate").click()
    page.locator("#player-rate").get_by_role("button", name="dreamy 4").click()
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    assert SliderRating.objects.get(slider=slider, track_id=int(playing)).value == 4
    assert page.evaluate(f"!{AUDIO}.paused")
