import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.audio_samples import music, write_clip, write_text
from tracks.models import Track


@pytest.fixture
def clip_bytes(tmp_path):
    clip = write_clip(tmp_path / "x.ogg", seconds=2.0, codec="vorbis", signal=lambda s, r: music(s, r, seed=9))
    return clip.read_bytes()


def upload(client, *files, **fields):
    return client.post(reverse("admin:tracks_track_upload"), {"files": list(files), **fields})


@pytest.mark.django_db
class TestAdminUpload:
    def test_the_changelist_links_to_the_upload_page(self, staff_client):
        page = staff_client.get(reverse("admin:tracks_track_changelist")).content.decode()
        assert reverse("admin:tracks_track_upload") in page

    def test_uploaded_audio_is_stored_ingested_and_embedded(self, staff_client, clip_bytes):
        response = upload(staff_client, SimpleUploadedFile("Morning Song.ogg", clip_bytes), artist="Uploader")
        assert response.status_code == 302
        track = Track.objects.get()
        assert (track.title, track.artist, track.source) == ("Morning Song", "Uploader", Track.Source.UPLOAD)
        assert track.source_key == track.content_sha256 and track.audio_file.name.endswith(".ogg")
        # Tests run queued tasks at once: the upload went through decoding and the default model.
        assert track.status == Track.Status.READY and track.embeddings.count() == 1

    def test_a_broken_upload_fails_with_its_reason_and_the_others_go_on(self, staff_client, clip_bytes, tmp_path):
        notes = write_text(tmp_path / "notes.mp3").read_bytes()
        response = upload(
            staff_client, SimpleUploadedFile("notes.mp3", notes), SimpleUploadedFile("Good.ogg", clip_bytes)
        )
        assert response.status_code == 302
        statuses = dict(Track.objects.values_list("title", "status"))
        assert statuses == {"notes": "failed", "Good": "ready"}
        messages = [str(m) for m in response.wsgi_request._messages]
        assert any(m.startswith("notes.mp3: ") for m in messages)

    def test_the_same_file_twice_is_one_track(self, staff_client, clip_bytes):
        upload(staff_client, SimpleUploadedFile("a.ogg", clip_bytes))
        upload(staff_client, SimpleUploadedFile("b.ogg", clip_bytes))
        assert Track.objects.count() == 1

    def test_a_post_without_files_is_a_400(self, staff_client):
        response = upload(staff_client)
        assert response.status_code == 400 and "This field is required." in response.content.decode()

    def test_listeners_cannot_upload(self, owner_client, clip_bytes):
        response = upload(owner_client, SimpleUploadedFile("a.ogg", clip_bytes))
        assert response.status_code == 302 and reverse("admin:login") in response["Location"]
        assert not Track.objects.exists()
