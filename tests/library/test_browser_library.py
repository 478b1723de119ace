"""A staff member adds music from the site in a real Chromium: a folder scan, then a drag-and-drop upload."""

import base64

import pytest
from playwright.sync_api import expect

from discovery.library.models import ImportJob
from tests.audio_samples import music, write_clip
from tests.conftest import PASSWORD
from tracks.models import Track

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, user):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".username")).to_have_text(user.username)


def test_staff_add_a_folder_and_see_its_tracks_become_ready(page, staff, music_root, spectral_model):
    log_in(page, staff)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Add music").click()
    expect(page.get_by_role("heading", name="Add music")).to_be_visible()

    page.get_by_label("Or only a folder inside them").fill(f"{music_root}/../outside")
    page.get_by_role("button", name="Scan", exact=True).click()
    expect(page.locator("#folder-errors")).to_contain_text("Only folders inside the music folders")

    page.get_by_label("Or only a folder inside them").fill(str(music_root / "Album"))
    page.get_by_role("button", name="Scan", exact=True).click()
    progress = page.locator("#job-progress")
    expect(progress).to_have_attribute("data-status", "done")
    expect(progress.locator(".counts")).to_contain_text("2 added")
    expect(progress.locator(".failures")).to_contain_text("03 broken.mp3")
    for title in ("Night Drive", "02 second"):
        expect(progress.locator(".job-tracks li", has_text=title).locator(".badge")).to_have_text("Ready")
    expect(progress.locator(".embedding-counts")).to_contain_text("2 ready")
    expect(page.locator("#embedding-progress")).to_contain_text("2 ready")
    assert progress.get_attribute("hx-trigger") is None  # done: no more polling


def drop(page, *paths):
    """Drop `paths` on the drop zone as a desktop's file manager would (a drop event carrying Files)."""
    files = [[path.name, base64.b64encode(path.read_bytes()).decode()] for path in paths]
    transfer = page.evaluate_handle(
        """files => {
            const transfer = new DataTransfer();
            for (const [name, data] of files) {
                const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
                transfer.items.add(new File([bytes], name));
            }
            return transfer;
        }""",
        files,
    )
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": transfer})


def test_staff_drop_two_files_and_land_on_their_job(page, staff, spectral_model, tmp_path, settings):
    settings.MAX_UPLOAD_MB = 1
    first = write_clip(
        tmp_path / "Dropped One.ogg", seconds=1.5, codec="vorbis", signal=lambda s, r: music(s, r, seed=5)
    )
    second = write_clip(tmp_path / "Dropped Two.flac", seconds=1.5, codec="flac")
    too_big = write_clip(tmp_path / "Too Big.wav", seconds=8.0)
    log_in(page, staff)
    page.goto("/library/")

    drop(page, first, too_big)
    expect(page.locator("#upload-errors")).to_contain_text("“Too Big.wav” is 1.3 MB, over the limit of 1 MB a file")
    assert not ImportJob.objects.exists()

    drop(page, first, second)
    progress = page.locator("#job-progress")
    expect(progress).to_have_attribute("data-status", "done")
    expect(progress.locator(".counts")).to_contain_text("2 added")
    expect(page.locator("h1")).to_have_text("Upload of 2 files")
    assert set(Track.objects.values_list("title", "status")) == {("Dropped One", "ready"), ("Dropped Two", "ready")}
