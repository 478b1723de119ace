"""Every page on a phone, in both themes, in a real Chromium: nothing wider than the screen, the theme the system
asks for, touch targets a finger can hit, and no emoji standing in for icons."""

import re

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.views.defaults import server_error
from playwright.sync_api import expect

from discovery.accounts.services import make_invite, password_reset_path
from discovery.library.models import ImportJob
from embedding.models import TrackEmbedding
from taste.sliders.models import SliderRating
from taste.sliders.services import create_slider, refit
from taste.stations.services import create_station, set_thumb
from tests.audio_samples import write_clip
from tests.catalogue import make_catalogue
from tests.conftest import PASSWORD
from tests.sliders.ratings import hidden_direction_ratings
from tests.test_ingest_itunes import FakeITunes, song
from tracks.models import Track

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONES = [(360, 740), (390, 844)]
# Pictographs, dingbats, technical and geometric symbols, and the emoji presentation selector: the codepoints
# that draw as empty boxes where no colour-emoji font is installed. Arrows and punctuation (↔ · ›) are text.
EMOJI = re.compile("[\U0001f000-\U0001faff\u2300-\u23ff\u25a0-\u25ff\u2600-\u27bf\u2b00-\u2bff\ufe0f]")
# Names as people's files have them: long, and without a place to break.
LONG_TITLE = "Symphonie" + "x" * 90 + " (Remastered " + "y" * 40 + ")"
LONG_PATH = "/srv/music/" + "/".join(["a-very-long-folder-name-without-spaces"] * 5) + "/track.flac"

MEASURE = """() => {
  const width = innerWidth;
  const wide = [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > width + 1 && getComputedStyle(e).position !== "fixed")
    .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + "." + [...e.classList].join("."));
  return {scrollWidth: document.documentElement.scrollWidth, width, wide};
}"""
# Buttons, fields and the links that make up a list's rows or the menu, as laid out on the screen now; the
# player (#player) and the keys dialog have their own tests.
SMALL_TARGETS = """() => [...document.querySelectorAll(
    "button, select, textarea, input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=file])," +
    " .menu a, main li > a:first-child, a.button-link")]
  .filter(e => !e.closest("#player, dialog, .visually-hidden") && e.getClientRects().length
    && getComputedStyle(e).visibility !== "hidden")
  .map(e => [e, e.getBoundingClientRect()])
  .filter(([e, r]) => r.height < 43.5 || (e.matches("button, input, select") && r.width < 43.5))
  .map(([e, r]) => `${e.tagName.toLowerCase()} "${(e.innerText || e.value || e.name || "").trim().slice(0, 30)}" `
    + `${Math.round(r.width)}x${Math.round(r.height)}`)"""
COLOURS = """() => {
  const rgb = value => value.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const luminance = ([r, g, b]) => [r, g, b].map(c => c / 255)
    .map(c => c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)
    .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
  const style = getComputedStyle(document.body);
  return {background: luminance(rgb(style.backgroundColor)), text: luminance(rgb(style.color))};
}"""


@pytest.fixture
def fake_itunes(tmp_path, settings):
    preview = write_clip(tmp_path / "preview.m4a", seconds=1.5, codec="aac").read_bytes()
    results = [song(101, "First Light"), song(102, LONG_TITLE, artworkUrl100="")]  # the second has no artwork
    with FakeITunes({101: preview, 102: preview}, results) as fake:
        settings.ITUNES_BASE_URL = fake.base
        settings.ITUNES_REQUESTS_PER_MINUTE = 0
        yield fake


def log_in(browser, live_server, user):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".username")).to_have_text(user.username)
    return page


def fill_the_catalogue(tmp_path, staff, listener, settings):
    """Tracks with audio (one with a long unbroken title), a station each, a thumb, a slider, an import job, a
    music folder with a long path."""
    settings.MUSIC_DIRS = [tmp_path / "-".join(["a-music-folder-with-a-long-name"] * 4)]
    settings.MUSIC_DIRS[0].mkdir()
    _, clusters = make_catalogue(audio_dir=tmp_path)
    first = clusters[0][0]
    long_one = Track.objects.create(
        title=LONG_TITLE, artist="The " + "z" * 60 + " Ensemble", album="w" * 80, source="folder",
        source_key="long", status=Track.Status.READY, duration_s=300.0, audio_path=first.audio_path,
    )
    vector = np.asarray(first.embeddings.get().vector) + 0.01
    TrackEmbedding.objects.create(track=long_one, model=first.embeddings.get().model,
                                  vector=vector / np.linalg.norm(vector), tags={"ambient": 0.6})
    stations = {}
    for user in (staff, listener):
        stations[user.pk] = create_station(user, [first.pk, long_one.pk])
        set_thumb(stations[user.pk], clusters[0][3].pk, "up")
        set_thumb(stations[user.pk], clusters[1][0].pk, "up")

    tracks = [t for cluster in clusters for t in cluster]
    slider = create_slider(listener, name="dreamy" + "e" * 50, low_label="not dreamy at all",
                           high_label="completely dreamy", public=True)
    _, _, ratings = hidden_direction_ratings(tracks)
    SliderRating.objects.bulk_create(
        SliderRating(user=listener, slider=slider, track_id=pk, value=value) for pk, value in list(ratings.items())[:30]
    )
    with transaction.atomic():
        refit(slider)

    job = ImportJob.objects.create(
        kind="folder", status="done", created_by=staff, params={"folders": [LONG_PATH.rsplit("/", 1)[0]]},
        total=3, done=3, added=1, failed_count=1, current_item=LONG_PATH,
        failures=[{"item": LONG_PATH, "reason": "Not audio: no stream FFmpeg can decode."}],
        links=[{"item": LONG_PATH + ".lnk", "reason": "It points outside the music folders."}],
    )
    job.tracks.add(long_one, first)
    make_invite(staff, note="For " + "q" * 70)
    return {"station": {pk: s.pk for pk, s in stations.items()}, "slider": slider.pk, "job": job.pk,
            "track": long_one.pk}


def check(page, path, problems, *, touch=True):
    """Open `path` at each phone size and in both themes; add what is wrong to `problems`."""
    page.emulate_media(color_scheme="dark")
    for width, height in PHONES:
        page.set_viewport_size({"width": width, "height": height})
        response = page.goto(path)
        assert response.status < 500 or path.startswith("/__"), f"{path} answered {response.status}"
        size = page.evaluate(MEASURE)
        if size["scrollWidth"] > size["width"]:
            problems.append(f"{path} at {width}px is {size['scrollWidth']}px wide ({', '.join(size['wide'])})")
        if touch and width == 390:
            small = page.evaluate(SMALL_TARGETS)
            if small:
                problems.append(f"{path}: targets under 44 px: {'; '.join(small[:4])}")
    for scheme, wanted in (("dark", lambda lum: lum < 0.05), ("light", lambda lum: lum > 0.8)):
        page.emulate_media(color_scheme=scheme)
        colours = page.evaluate(COLOURS)
        contrast = (max(colours.values()) + 0.05) / (min(colours.values()) + 0.05)
        if not wanted(colours["background"]) or contrast < 7:
            problems.append(f"{path} in {scheme}: background luminance {colours['background']:.2f}, "
                            f"text contrast {contrast:.1f}")
    emoji = sorted(set(EMOJI.findall(page.content())))
    if emoji:
        problems.append(f"{path} uses {' '.join(emoji)}")


def test_every_page_fits_a_phone_in_both_themes(browser, live_server, tmp_path, staff, owner, fake_itunes, settings):
    staff_page, listener_page = log_in(browser, live_server, staff), log_in(browser, live_server, owner)
    problems = []
    for page in (staff_page, listener_page):
        check(page, "/", problems)  # the empty catalogue's welcome
        assert page.locator("#corpus-empty").count() == 1

    site = fill_the_catalogue(tmp_path, staff, owner, settings)
    slider, track = site["slider"], site["track"]
    for user, page in ((owner, listener_page), (staff, staff_page)):
        station = site["station"][user.pk]
        for path in ["/", reverse("station_list"), reverse("liked_tracks"), reverse("slider_list"),
                     reverse("slider_detail", args=[slider]), reverse("track_detail", args=[track]), "/no/such/page/",
                     reverse("slider_ranking", args=[slider]) + "?order=sideways"]:  # the last: a 400 page
            check(page, path, problems)
        # Other people's pages: the layout rules hold there too; their own tests size their controls.
        check(page, reverse("station_detail", args=[station]), problems, touch=False)
        check(page, reverse("search") + "?q=C0", problems, touch=False)
        check(page, reverse("play_history"), problems, touch=False)
    for path in [reverse("library_home"), reverse("library_itunes") + "?term=test&country=US",
                 reverse("library_job", args=[site["job"]]), reverse("invite_list"), reverse("account_list")]:
        check(staff_page, path, problems)
    staff_page.locator(f'[data-user-id="{owner.pk}"]').get_by_role("button", name="Password reset link").click()
    expect(staff_page.get_by_role("heading", name="Password reset link")).to_be_visible()
    assert staff_page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    assert not problems, "\n".join(problems)


def test_the_pages_before_signing_in_fit_a_phone_in_both_themes(browser, live_server, staff, owner):
    forgetful = get_user_model().objects.create_user("forgetful", password=PASSWORD)
    invite = make_invite(staff, note="a friend")
    page = browser.new_context(base_url=live_server.url).new_page()
    # The 500 and 503 pages are rendered without a request (standalone.html); serve them as the server would.
    server_error_page = server_error(RequestFactory().get("/")).content
    page.route("**/__500__", lambda route: route.fulfill(status=500, body=server_error_page, content_type="text/html"))
    restarting = render_to_string("503.html").encode()
    page.route("**/__503__", lambda route: route.fulfill(status=503, body=restarting, content_type="text/html"))
    problems = []
    for path in [reverse("login"), reverse("signup"), f"{reverse('signup')}?invite={invite.token}",
                 reverse("password_reset"), reverse("password_reset_done"), password_reset_path(staff, forgetful),
                 reverse("password_reset_confirm", args=["MTIz", "no-such-token"]), reverse("password_reset_complete"),
                 "/__500__", "/__503__"]:
        check(page, path, problems)
    assert not problems, "\n".join(problems)


def test_on_a_phone_the_links_fold_behind_a_menu_button(browser, live_server, staff):
    page = log_in(browser, live_server, staff)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(reverse("station_list"))
    menu = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Main")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    assert page.locator(".topbar").bounding_box()["height"] <= 60  # one row: the first result stays in view

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    links = nav.get_by_role("link")
    expect(links.first).to_be_visible()
    assert all(box["height"] >= 44 and box["x"] + box["width"] <= 360
               for box in (links.nth(i).bounding_box() for i in range(links.count())))
    expect(nav.get_by_role("link", name="Stations")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(menu).to_be_focused()

    page.get_by_role("button", name="Menu").click()
    nav.get_by_role("link", name="Sliders").click()  # a boosted navigation brings a new top bar, folded again
    expect(page.get_by_role("heading", name="Sliders", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()

    page.set_viewport_size({"width": 1280, "height": 900})
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(nav.get_by_role("link", name="Add music")).to_be_visible()
    assert page.locator(".topbar").bounding_box()["height"] <= 64
