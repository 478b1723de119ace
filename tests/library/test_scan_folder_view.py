"""POST /library/folder/: folders inside MUSIC_DIRS are scanned in a background job; nothing else is read."""

import pytest
from django.urls import reverse

from discovery.library.models import ImportJob
from tracks.models import Track

pytestmark = pytest.mark.django_db


def scan(client, folder):
    return client.post(reverse("library_scan_folder"), {"folder": str(folder)})


@pytest.mark.parametrize("written", ["{root}/../outside", "{root}/Album/../../outside", "{root}2", "{root}/../music2"])
def test_a_folder_outside_music_dirs_is_refused_with_a_sentence_and_nothing_is_read(
    staff_client, music_root, written
):
    response = scan(staff_client, written.format(root=music_root))
    assert response.status_code == 400
    page = response.content.decode()
    assert (
        "Only folders inside the music folders this site was given (MUSIC_DIRS) can be scanned: "
        f"{music_root.resolve()}." in page
    )
    assert not ImportJob.objects.exists() and not Track.objects.exists()


def test_without_music_dirs_the_page_says_how_to_set_them(staff_client, music_root, settings):
    settings.MUSIC_DIRS = []
    page = staff_client.get(reverse("library_home")).content.decode()
    assert 'id="no-music-dirs"' in page and "Set MUSIC_DIRS to the folders" in page
    response = scan(staff_client, music_root)
    assert response.status_code == 400 and "This site was given no music folders to scan" in response.content.decode()
    assert not Track.objects.exists()


def test_the_page_offers_each_music_dir(staff_client, music_root):
    page = staff_client.get(reverse("library_home")).content.decode()
    assert f'<input type="hidden" name="folder" value="{music_root.resolve()}">' in page
    assert "rescanned every 60 minutes" in page


def test_a_folder_inside_is_scanned_its_tracks_appear_and_are_queued_for_embedding(
    staff_client, staff, music_root, spectral_model, monkeypatch
):
    from discovery.library import runner

    queued = []
    real_enqueue = runner.enqueue_embedding
    monkeypatch.setattr(runner, "enqueue_embedding", lambda ids: queued.append(list(ids)) or real_enqueue(ids))

    response = scan(staff_client, music_root / "Album")
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("library_job", args=[job.pk])
    assert (job.kind, job.status, job.created_by, job.params) == (
        "folder", "done", staff, {"folders": [str((music_root / "Album").resolve())]}
    )
    assert (job.total, job.done, job.added, job.updated, job.unchanged, job.failed_count) == (3, 3, 2, 0, 0, 1)
    tracks = {t.title: t for t in Track.objects.all()}
    assert set(tracks) == {"Night Drive", "02 second", "03 broken"}
    assert tracks["Night Drive"].artist == "The Testers" and tracks["Night Drive"].source == Track.Source.FOLDER
    assert queued == [sorted([tracks["Night Drive"].pk, tracks["02 second"].pk])]
    # The queue runs in-process in tests: the queued tracks were embedded already.
    assert tracks["Night Drive"].status == tracks["02 second"].status == Track.Status.READY
    assert set(job.tracks.all()) == {tracks["Night Drive"], tracks["02 second"]}


def test_scanning_again_adds_nothing(staff_client, music_root, spectral_model):
    scan(staff_client, music_root)
    scan(staff_client, music_root)
    first, second = ImportJob.objects.order_by("pk")
    assert (second.added, second.updated, second.unchanged) == (0, 0, 2)
    assert Track.objects.count() == 3


def test_a_folder_already_being_scanned_is_not_scanned_twice(staff_client, staff, music_root):
    folder = str(music_root.resolve())
    running = ImportJob.objects.create(kind="folder", status="running", created_by=staff, params={"folders": [folder]})
    response = scan(staff_client, music_root)
    assert response["Location"] == reverse("library_job", args=[running.pk])
    assert ImportJob.objects.count() == 1 and not Track.objects.exists()


def test_a_folder_that_left_music_dirs_before_its_job_ran_is_not_read(music_root, settings, staff):
    from discovery.library.runner import run_job

    job = ImportJob.objects.create(kind="folder", created_by=staff, params={"folders": [str(music_root)]})
    settings.MUSIC_DIRS = [music_root / "Album" / "elsewhere"]
    run_job(job.pk)
    job.refresh_from_db()
    assert job.status == "done" and job.failed_count == 1 and "Only folders inside" in job.failures[0]["reason"]
    assert not Track.objects.exists()
