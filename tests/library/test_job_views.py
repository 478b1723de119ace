"""The job page and its progress partial: counts, failures with reasons, polling while running, retry."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from discovery.library.models import ImportJob
from discovery.library.runner import give_up_stalled
from tests.audio_samples import write_clip
from tracks.models import Track

pytestmark = pytest.mark.django_db


def scan(client, folder):
    client.post(reverse("library_scan_folder"), {"folder": str(folder)})
    return ImportJob.objects.latest("pk")


def progress(client, job):
    response = client.get(reverse("library_job_progress", args=[job.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.content.decode()


def test_the_partial_shows_counts_and_failures_and_stops_polling_when_done(staff_client, music_root, spectral_model):
    job = scan(staff_client, music_root)
    html = progress(staff_client, job)
    assert 'data-status="done"' in html and "hx-trigger" not in html
    assert "3 of 3 items read" in html
    for count in ("2 added", "0 updated", "0 unchanged", "1 failed"):
        assert count in html
    broken = str((music_root / "Album" / "03 broken.mp3").resolve())
    assert broken in html
    reason = Track.objects.get(title="03 broken").error
    assert reason and reason in html
    assert "2 ready" in html and "Night Drive" in html


def test_the_page_links_to_the_embedding_progress(staff_client, music_root, spectral_model):
    job = scan(staff_client, music_root)
    page = staff_client.get(reverse("library_job", args=[job.pk])).content.decode()
    assert 'id="job-progress"' in page and 'id="embedding-progress"' in page
    assert f'href="{reverse("home")}#embedding-progress"' in page


def test_a_running_job_polls_every_two_seconds(staff_client, staff):
    job = ImportJob.objects.create(
        kind="folder", status="running", created_by=staff, params={"folders": ["/music"]}, total=10, done=4,
        current_item="/music/a.flac",
    )
    html = progress(staff_client, job)
    url = reverse("library_job_progress", args=[job.pk])
    assert f'hx-get="{url}" hx-trigger="every 2s"' in html
    assert "4 of 10 items read" in html and "/music/a.flac" in html


def test_a_queued_job_says_it_waits_for_the_worker(staff_client, staff):
    job = ImportJob.objects.create(kind="folder", created_by=staff, params={"folders": ["/music"]})
    html = progress(staff_client, job)
    assert "Waiting for the worker" in html and "qcluster" in html and "every 2s" in html


def test_a_job_whose_worker_stopped_long_ago_is_given_up(staff, settings):
    job = ImportJob.objects.create(kind="folder", status="running", created_by=staff, params={"folders": ["/m"]})
    ImportJob.objects.filter(pk=job.pk).update(heartbeat=timezone.now() - timedelta(hours=3))
    assert give_up_stalled() == 1
    job.refresh_from_db()
    assert job.status == "failed" and "stopped without finishing" in job.error


def test_retry_tries_the_failed_file_again_in_a_new_job(staff_client, music_root, spectral_model):
    job = scan(staff_client, music_root)
    broken = music_root / "Album" / "03 broken.mp3"
    write_clip(broken, seconds=1.5, codec="mp3")  # fixed on disk meanwhile
    assert "Retry the failed ones" in progress(staff_client, job)

    response = staff_client.post(reverse("library_job_retry", args=[job.pk]))
    retry = ImportJob.objects.latest("pk")
    assert response["Location"] == reverse("library_job", args=[retry.pk])
    assert retry.retry_of == job and retry.params == {"files": [str(broken.resolve())], "folders": []}
    assert (retry.status, retry.total, retry.updated, retry.failed_count) == ("done", 1, 1, 0)
    assert Track.objects.get(source_key=str(broken.resolve())).status == Track.Status.READY
    assert "Another try at 1 file" in staff_client.get(reverse("library_job", args=[retry.pk])).content.decode()
    assert "Retry the failed ones" not in progress(staff_client, retry)


def test_retry_queues_tracks_whose_embedding_failed_again(staff_client, music_root, spectral_model):
    (music_root / "Album" / "03 broken.mp3").unlink()
    job = scan(staff_client, music_root)
    track = job.tracks.get(title="Night Drive")
    Track.objects.filter(pk=track.pk).update(status=Track.Status.FAILED, error="The model ran out of memory.")
    assert "The model ran out of memory." in progress(staff_client, job)

    response = staff_client.post(reverse("library_job_retry", args=[job.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("library_job", args=[job.pk])
    assert "Queued 1 track(s) to be embedded again." in response.content.decode()
    assert ImportJob.objects.count() == 1
    track.refresh_from_db()
    assert track.status == Track.Status.READY


def test_an_upload_job_cannot_be_retried_and_says_so(staff_client, staff):
    job = ImportJob.objects.create(
        kind="upload", status="done", created_by=staff, failed_count=1,
        failures=[{"item": "bad.mp3", "reason": "The file is empty."}], params={"files": []},
    )
    html = progress(staff_client, job)
    assert "Retry the failed ones" not in html and "upload the failed ones again" in html


def test_a_retried_file_is_read_again_even_when_unchanged(staff_client, music_root, monkeypatch):
    from discovery.library import runner

    job = scan(staff_client, music_root)
    calls = []
    real = runner.save_audio_track
    monkeypatch.setattr(runner, "save_audio_track", lambda *a, **k: calls.append(k) or real(*a, **k))
    staff_client.post(reverse("library_job_retry", args=[job.pk]))
    retry = ImportJob.objects.latest("pk")
    assert [call["reread"] for call in calls] == [True]
    assert (retry.failed_count, retry.unchanged) == (1, 0)
    assert retry.failures[0]["reason"] == Track.objects.get(title="03 broken").error


def test_links_a_scan_did_not_follow_are_listed_with_why(staff_client, music_root, tmp_path):
    (music_root / "Album" / "gone.flac").symlink_to(tmp_path / "nowhere.flac")
    job = scan(staff_client, music_root)
    assert [link["item"] for link in job.links] == [str(music_root.resolve() / "Album" / "gone.flac")]
    html = progress(staff_client, job)
    assert "Links not followed" in html and "dangling" in html
