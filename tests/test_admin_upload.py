import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.audio_samples import music, silence, write_clip, write_text
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


@pytest.fixture
def spectral_model(db):
    from embedding.models import EmbeddingModel
    from embedding.spectral import DIM

    return EmbeddingModel.objects.create(name="spectral", dim=DIM, is_default=True)


@pytest.mark.django_db
class TestUploadNames:
    def test_a_name_as_the_browser_escapes_it_is_unquoted_before_it_becomes_a_title(self, staff_client, clip_bytes):
        # Browsers send `"`, CR and LF in a file name as %22, %0D and %0A.
        upload(staff_client, SimpleUploadedFile("The %22Best%22%0D%0ATake.ogg", clip_bytes))
        track = Track.objects.get()
        assert track.title == 'The "Best" Take'
        assert track.audio_file.name.endswith('/The "Best" Take.ogg') and track.source_key in track.audio_file.name

    def test_an_upload_that_fails_on_embedding_names_the_uploaded_file(self, staff_client, spectral_model, tmp_path):
        quiet = write_clip(tmp_path / "x.wav", seconds=2.0, signal=silence).read_bytes()
        upload(staff_client, SimpleUploadedFile("Quiet %22One%22.wav", quiet))
        track = Track.objects.get()
        assert track.status == Track.Status.FAILED
        assert track.error.startswith('“Quiet "One".wav” is silent') and track.content_sha256 not in track.error

    def test_an_upload_that_fails_on_reading_keeps_its_reason_when_retried(
        self, staff_client, spectral_model, tmp_path
    ):
        notes = write_text(tmp_path / "notes.mp3").read_bytes()
        response = upload(staff_client, SimpleUploadedFile("Setlist.mp3", notes))
        track = Track.objects.get()
        assert track.error.startswith("“Setlist.mp3” is not audio that can be read")
        assert [str(m) for m in response.wsgi_request._messages] == [f"Setlist.mp3: {track.error}"]
        reason = track.error

        staff_client.post(
            reverse("admin:tracks_track_changelist"), {"action": "retry_failed", "_selected_action": [track.pk]}
        )

        track.refresh_from_db()
        assert (track.status, track.error) == (Track.Status.FAILED, reason)
