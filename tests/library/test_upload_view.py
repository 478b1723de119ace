"""POST /library/upload/: several files in one request, a size limit per file, the import in a job."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from discovery.library import uploads
from discovery.library.models import ImportJob
from tests.audio_samples import music, tone, write_clip
from tracks.models import Track

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_limits(settings, tmp_path):
    """A 1 MB limit, and files over 1 kB go to a temporary file in a folder the test can look into."""
    settings.MAX_UPLOAD_MB = 1
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "upload-tmp")
    (tmp_path / "upload-tmp").mkdir()
    return tmp_path / "upload-tmp"


@pytest.fixture
def clips(tmp_path):
    first = write_clip(tmp_path / "Morning.ogg", seconds=1.5, codec="vorbis", signal=lambda s, r: music(s, r, seed=9))
    second = write_clip(tmp_path / "Evening.flac", seconds=1.5, codec="flac", signal=lambda s, r: tone(s, r, 330))
    return [first, second]


def upload(client, *paths, htmx=False):
    files = [SimpleUploadedFile(path.name, path.read_bytes()) for path in paths]
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(reverse("library_upload"), {"files": files}, headers=headers)


def left_on_disk(*folders):
    return [path for folder in folders if folder.exists() for path in folder.rglob("*") if path.is_file()]


def test_two_files_are_uploaded_imported_and_embedded(staff_client, staff, clips, spectral_model, settings):
    response = upload(staff_client, *clips, htmx=True)
    job = ImportJob.objects.get()
    # The page's script follows HX-Redirect to the job's page.
    assert response.status_code == 200 and response["HX-Redirect"] == reverse("library_job", args=[job.pk])
    assert (job.kind, job.status, job.created_by, job.total, job.added, job.failed_count) == (
        "upload", "done", staff, 2, 2, 0,
    )
    assert [entry["name"] for entry in job.params["files"]] == ["Morning.ogg", "Evening.flac"]
    tracks = {t.title: t for t in Track.objects.all()}
    assert set(tracks) == {"Morning", "Evening"}
    assert all(t.source == Track.Source.UPLOAD and t.status == Track.Status.READY for t in tracks.values())
    assert not uploads.job_folder(job.pk).exists()  # the task removed the files it read


def test_a_plain_form_post_is_redirected_to_the_job(staff_client, clips, spectral_model):
    response = upload(staff_client, clips[0])
    assert response.status_code == 302 and response["Location"] == ImportJob.objects.get().get_absolute_url()


def test_a_file_over_the_limit_is_refused_with_a_sentence_naming_it_and_nothing_stays_on_disk(
    staff_client, clips, small_limits, settings, tmp_path
):
    big = tmp_path / "Big Symphony.wav"
    write_clip(big, seconds=8.0)  # about 1.4 MB
    for htmx in (True, False):
        response = upload(staff_client, clips[0], big, htmx=htmx)
        assert response.status_code == 400
        text = response.content.decode()
        assert (
            "“Big Symphony.wav” is 1.3 MB, over the limit of 1 MB a file (MAX_UPLOAD_MB); nothing was uploaded."
        ) in text
        assert ("<html" in text) is not htmx  # a fragment for the script, a page for a plain post
    assert not ImportJob.objects.exists() and not Track.objects.exists()
    assert left_on_disk(small_limits, settings.MEDIA_ROOT / uploads.INCOMING) == []


def test_a_broken_file_fails_with_its_reason_and_the_other_goes_on(staff_client, clips, spectral_model, tmp_path):
    notes = tmp_path / "notes.mp3"
    notes.write_text("not audio at all\n" * 100)
    upload(staff_client, notes, clips[0])
    job = ImportJob.objects.get()
    assert (job.added, job.failed_count) == (1, 1) and job.failures[0]["item"] == "notes.mp3"
    assert job.failures[0]["reason"] == Track.objects.get(title="notes").error


def test_no_files_is_a_400_with_a_sentence(staff_client):
    response = staff_client.post(reverse("library_upload"), {})
    assert response.status_code == 400
    assert "Choose or drop at least one audio file to upload." in response.content.decode()


def test_the_page_tells_the_script_the_limit(staff_client, small_limits):
    page = staff_client.get(reverse("library_home")).content.decode()
    assert 'data-max-bytes="1048576"' in page and "at most 1 MB a file" in page


def test_a_disk_that_refuses_the_files_is_said_and_leaves_nothing(staff_client, clips, monkeypatch, settings):
    from discovery.library import services

    def full_disk(job_id, files):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(services.uploads, "store", full_disk)
    response = upload(staff_client, *clips)
    assert response.status_code == 400
    assert "The files could not be stored on the server: No space left on device." in response.content.decode()
    assert not ImportJob.objects.exists()
