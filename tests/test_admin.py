import numpy as np
import pytest
from django.urls import reverse

from embedding.models import EmbeddingModel, TrackEmbedding
from tests.audio_samples import write_clip
from tests.vectors import random_unit_vectors
from tracks.models import Track


@pytest.fixture
def tracks(db):
    canonical = Track.objects.create(
        title="Elvish Theme", artist="Wesnoth", album="Music", source="folder", source_key="elvish.ogg",
        audio_path="/music/elvish.ogg", status=Track.Status.READY,
    )
    remaster = Track.objects.create(
        title="Elvish Theme (Remastered)", artist="Wesnoth", source="itunes", source_key="991",
        preview_url="https://audio.example/991.m4a", duplicate_of=canonical,
    )
    broken = Track.objects.create(
        title="Knolls", artist="Other", source="upload", source_key="c" * 64,
        status=Track.Status.FAILED, error="The file is empty (0 bytes).",
    )
    return canonical, remaster, broken


def changelist(client, **params):
    response = client.get(reverse("admin:tracks_track_changelist"), params)
    assert response.status_code == 200
    return {track.pk for track in response.context["cl"].result_list}


@pytest.mark.django_db
class TestAdminAccess:
    def test_anonymous_visitors_are_sent_to_log_in(self, client):
        response = client.get(reverse("admin:tracks_track_changelist"))
        assert response.status_code == 302 and "login" in response["Location"]

    def test_a_listener_without_staff_status_cannot_enter(self, owner_client):
        response = owner_client.get(reverse("admin:tracks_track_changelist"))
        assert response.status_code == 302 and reverse("admin:login") in response["Location"]

    def test_staff_can_curate_tracks(self, staff_client, tracks):
        assert changelist(staff_client) == {t.pk for t in tracks}


@pytest.mark.django_db
class TestTrackCuration:
    def test_search_covers_title_artist_and_album(self, staff_client, tracks):
        canonical, remaster, broken = tracks
        assert changelist(staff_client, q="remastered") == {remaster.pk}
        assert changelist(staff_client, q="Other") == {broken.pk}
        assert changelist(staff_client, q="Music") == {canonical.pk}

    def test_filters_by_status_source_and_duplicate(self, staff_client, tracks):
        canonical, remaster, broken = tracks
        assert changelist(staff_client, status="failed") == {broken.pk}
        assert changelist(staff_client, source="itunes") == {remaster.pk}
        assert changelist(staff_client, duplicate="yes") == {remaster.pk}
        assert changelist(staff_client, duplicate="no") == {canonical.pk, broken.pk}

    def test_filters_by_embedding_model(self, staff_client, tracks):
        canonical, remaster, broken = tracks
        model = EmbeddingModel.objects.create(name="musicnn", dim=16)
        TrackEmbedding.objects.create(track=canonical, model=model, vector=random_unit_vectors(1, 16)[0])
        assert changelist(staff_client, embedded_by="musicnn") == {canonical.pk}
        assert changelist(staff_client, embedded_by="missing:musicnn") == {remaster.pk, broken.pk}

    def test_bulk_hide_and_unhide(self, staff_client, tracks):
        canonical, remaster, _ = tracks
        url = reverse("admin:tracks_track_changelist")
        selected = [canonical.pk, remaster.pk]
        staff_client.post(url, {"action": "hide_tracks", "_selected_action": selected})
        assert set(Track.objects.filter(hidden=True).values_list("pk", flat=True)) == set(selected)
        staff_client.post(url, {"action": "unhide_tracks", "_selected_action": [remaster.pk]})
        assert set(Track.objects.filter(hidden=True).values_list("pk", flat=True)) == {canonical.pk}

    def test_embed_again_runs_the_job_on_the_selected_tracks(self, staff_client, tmp_path):
        playable = Track.objects.create(
            title="Playable", source="folder", source_key="p", status=Track.Status.FAILED, error="old reason",
            audio_path=str(write_clip(tmp_path / "p.flac", seconds=2.0, codec="flac")),
        )
        gone = Track.objects.create(title="Gone", source="folder", source_key="g", audio_path=str(tmp_path / "g.ogg"))
        model = EmbeddingModel.objects.create(name="musicnn", dim=200)
        old_vector = random_unit_vectors(1, 200)[0]
        TrackEmbedding.objects.create(track=gone, model=model, vector=old_vector)

        staff_client.post(
            reverse("admin:tracks_track_changelist"),
            {"action": "mark_for_reembedding", "_selected_action": [playable.pk, gone.pk]},
        )
        # Tests run queued tasks at once, so the job has already run.
        playable.refresh_from_db()
        gone.refresh_from_db()
        assert (playable.status, playable.error) == ("ready", "")
        assert gone.status == "failed" and "g.ogg" in gone.error
        np.testing.assert_allclose(gone.embeddings.get().vector, old_vector, atol=1e-6)  # kept until replaced

    def test_retry_failed_queues_only_the_failed_ones(self, staff_client, tracks, tmp_path):
        canonical, _, broken = tracks
        broken.audio_path = str(write_clip(tmp_path / "fixed.flac", seconds=2.0, codec="flac"))
        broken.save()
        staff_client.post(
            reverse("admin:tracks_track_changelist"),
            {"action": "retry_failed", "_selected_action": [canonical.pk, broken.pk]},
        )
        broken.refresh_from_db()
        canonical.refresh_from_db()
        assert broken.status == "ready" and canonical.status == "ready" and not canonical.embeddings.exists()

    def test_the_change_page_plays_the_track_and_summarises_its_embeddings(self, staff_client, tracks):
        canonical, _, _ = tracks
        model = EmbeddingModel.objects.create(name="musicnn", dim=16)
        TrackEmbedding.objects.create(
            track=canonical, model=model, vector=random_unit_vectors(1, 16)[0], tags={"ambient": 0.61, "jazz": 0.02}
        )
        page = staff_client.get(reverse("admin:tracks_track_change", args=[canonical.pk])).content.decode()
        assert f'<audio controls preload="none" src="{reverse("track_audio", args=[canonical.pk])}"' in page
        assert "musicnn" in page and "ambient 0.61" in page
        assert 'name="embeddings-0-vector"' not in page  # the summary is read-only

    def test_the_change_page_of_a_track_without_audio_says_so(self, staff_client):
        track = Track.objects.create(title="Silent entry", source="upload", source_key="d" * 64)
        page = staff_client.get(reverse("admin:tracks_track_change", args=[track.pk])).content.decode()
        assert "No audio yet." in page and "<audio" not in page

    def test_titles_are_escaped_in_the_admin(self, staff_client):
        track = Track.objects.create(title="<script>alert(1)</script>", source="upload", source_key="e" * 64)
        page = staff_client.get(reverse("admin:tracks_track_changelist")).content.decode()
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert track.pk in {t.pk for t in Track.objects.all()}


@pytest.mark.django_db
class TestEmbeddingModelAdmin:
    def test_make_default_action(self, staff_client):
        EmbeddingModel.objects.create(name="musicnn", dim=200)
        spectral = EmbeddingModel.objects.create(name="spectral", dim=64)
        staff_client.post(
            reverse("admin:embedding_embeddingmodel_changelist"),
            {"action": "make_default", "_selected_action": [spectral.pk]},
        )
        assert EmbeddingModel.default() == spectral

    def test_the_dimension_is_read_only_once_a_model_exists(self, staff_client):
        model = EmbeddingModel.objects.create(name="musicnn", dim=200)
        page = staff_client.get(reverse("admin:embedding_embeddingmodel_change", args=[model.pk])).content.decode()
        assert 'name="dim"' not in page


@pytest.fixture
def curator_client(client, django_user_model):
    """Staff with the track permissions only: no superuser powers."""
    from django.contrib.auth.models import Permission

    curator = django_user_model.objects.create_user("trackcurator", password="x", is_staff=True)
    track_permissions = Permission.objects.filter(content_type__app_label="tracks", codename__endswith="_track")
    curator.user_permissions.set(track_permissions)
    client.force_login(curator)
    return client


@pytest.mark.django_db
class TestWhereAudioComesFromIsReadOnly:
    SOURCE_FIELDS = ["source", "source_key", "audio_file", "audio_path", "content_sha256"]

    def test_the_change_page_offers_no_input_for_the_source_fields(self, curator_client, tracks):
        canonical, _, _ = tracks
        page = curator_client.get(reverse("admin:tracks_track_change", args=[canonical.pk])).content.decode()
        assert "/music/elvish.ogg" in page  # shown ...
        for name in self.SOURCE_FIELDS:
            assert f'name="{name}"' not in page  # ... but not editable
        assert 'name="title"' in page and 'name="hidden"' in page

    def test_posting_an_audio_path_changes_nothing_but_the_editable_fields(self, curator_client, tracks, settings):
        canonical, _, _ = tracks
        secret = str(settings.DATA_DIR / "secret_key")
        response = curator_client.post(
            reverse("admin:tracks_track_change", args=[canonical.pk]),
            {
                "title": "Elvish Theme, curated", "artist": "Wesnoth", "album": "Music", "genre": "", "year": "",
                "duration_s": "", "preview_url": "", "artwork_url": "", "duplicate_of": "",
                "audio_path": secret, "source": "upload", "source_key": "x", "content_sha256": "0" * 64,
                "embeddings-TOTAL_FORMS": "0", "embeddings-INITIAL_FORMS": "0",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        canonical.refresh_from_db()
        assert canonical.title == "Elvish Theme, curated"
        assert (canonical.audio_path, canonical.source, canonical.source_key, canonical.content_sha256) == (
            "/music/elvish.ogg", "folder", "elvish.ogg", "",
        )

    def test_adding_a_track_by_hand_leads_to_the_upload_page(self, curator_client, tmp_path):
        response = curator_client.get(reverse("admin:tracks_track_add"))
        assert response.status_code == 302 and response["Location"] == reverse("admin:tracks_track_upload")
        curator_client.post(
            reverse("admin:tracks_track_add"),
            {"title": "x", "source": "folder", "source_key": "k", "audio_path": str(tmp_path / "x.ogg")},
        )
        assert not Track.objects.exists()
