"""backup and restore: a round trip through pg_dump/pg_restore and the media folder on the real test database."""

import json
import shutil
import time

import numpy as np
import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django_q.models import Task

from discovery import backup as backup_service
from discovery.backup import DUMP, MANIFEST
from embedding.models import EmbeddingModel, TrackEmbedding
from embedding.vector_index import nearest_neighbours
from taste.sliders.models import Slider, SliderRating
from taste.sliders.services import create_slider, rate
from taste.stations.models import Station, StationSeed, Thumb
from taste.stations.services import Knobs, create_station, save_knobs, set_thumb
from tests.catalogue import make_catalogue
from tracks.models import Track

pytestmark = pytest.mark.django_db(transaction=True)

User = get_user_model()
UPLOAD = b"RIFF....WAVEfmt an uploaded file's bytes" * 100


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """A media folder of this test's own: restore replaces the whole folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


def make_site():
    """Users, a station with seeds, knobs and thumbs, a lit-or-not slider with ratings, tracks, vectors, audio."""
    model, clusters = make_catalogue()
    listener = User.objects.create_user("listener", password="listen-closely-42")
    User.objects.create_user("curator", password="listen-closely-42", is_staff=True)
    tracks = [track for cluster in clusters for track in cluster]
    slider = create_slider(listener, name="dreamy", low_label="not at all", high_label="completely", public=True)
    for i, track in enumerate(tracks[:12]):
        rate(slider, listener, track.pk, 1 + i % 5)
    station = create_station(listener, [clusters[0][0].pk, clusters[1][0].pk], name="Evening")
    save_knobs(station, Knobs(breadth=0.7, explore=0.35, slider_weights={slider.pk: 0.5}))
    set_thumb(station, clusters[0][3].pk, "up")
    set_thumb(station, clusters[2][4].pk, "down")
    uploaded = tracks[5]
    uploaded.audio_file.save("upload.wav", ContentFile(UPLOAD))
    return model, tracks, station, slider, uploaded


def everything():
    """Every row that matters, as plain values (vectors as float lists, so they compare exactly)."""
    rows = {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in (User, Track, EmbeddingModel, Station, StationSeed, Thumb, Slider, SliderRating)
    }
    rows["vectors"] = [
        (row["track_id"], row["model_id"], np.asarray(row["vector"]).tolist(), row["tags"])
        for row in TrackEmbedding.objects.order_by("pk").values()
    ]
    return rows


def test_a_round_trip_brings_back_every_row_vector_and_file(tmp_path, media_root):
    model, tracks, station, slider, uploaded = make_site()
    assert Slider.objects.get(pk=slider.pk).fit["ratings"] == 12  # the fit is stored on the row, and must return
    before = everything()
    query = np.asarray(TrackEmbedding.objects.get(track=tracks[0]).vector)
    neighbours = nearest_neighbours(model, query, limit=8)
    backup = tmp_path / "backup"

    call_command("backup", str(backup), verbosity=0)

    manifest = json.loads((backup / MANIFEST).read_text())
    assert manifest["counts"]["auth.user"] == 2 and manifest["counts"]["tracks.track"] == 36
    assert manifest["counts"]["embedding.trackembedding"] == 36
    assert manifest["database"]["name"] == connection.settings_dict["NAME"]
    assert "0002_vector_guards" in manifest["migrations"]["embedding"]
    audio_name = uploaded.audio_file.name
    media_name = f"media/{audio_name}"
    assert (backup / media_name).read_bytes() == UPLOAD and set(manifest["files"]) == {DUMP, media_name}

    # Then things happen: a station goes, a slider is turned, a track and its vector vanish, the audio too,
    # a stranger signs up, a vector moves, and a table from some later migration appears.
    Station.objects.filter(pk=station.pk).delete()
    Slider.objects.filter(pk=slider.pk).update(name="gloomy", fit={})
    Track.objects.filter(pk=tracks[1].pk).delete()
    TrackEmbedding.objects.filter(track=tracks[2]).update(vector=-query)
    User.objects.create_user("stranger")
    uploaded.audio_file.delete(save=False)
    (media_root / "stray.mp3").write_bytes(b"not in the backup")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE later_feature (id serial PRIMARY KEY, user_id int REFERENCES auth_user(id))")

    call_command("restore", str(backup), force=True, verbosity=0)

    assert everything() == before
    assert nearest_neighbours(model, query, limit=8) == neighbours
    assert sorted(p.relative_to(media_root).as_posix() for p in media_root.rglob("*") if p.is_file()) == [audio_name]
    with Track.objects.get(pk=uploaded.pk).audio_file.open("rb") as audio:
        assert audio.read() == UPLOAD
    assert "later_feature" not in connection.introspection.table_names()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [model.index_name])
        assert cursor.fetchone()[0], "the model's HNSW index came back"
        cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname")
        triggers = [name for (name,) in cursor.fetchall()]
    assert triggers == ["embedding_model_has_default", "embedding_vector_matches_model"]
    # The guards work again: no vector of the wrong length, and new rows continue the restored sequences.
    with pytest.raises(IntegrityError, match="dimensions"), transaction.atomic():
        TrackEmbedding.objects.create(track=tracks[1], model=model, vector=[1.0, 0.0])
    assert Track.objects.create(title="New", source="folder", source_key="new").pk > max(t.pk for t in tracks)


def test_restore_into_an_empty_database_needs_no_force(tmp_path, media_root):
    make_site()
    before = everything()
    call_command("backup", str(tmp_path / "backup"), verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    for path in media_root.rglob("*"):
        if path.is_file():
            path.unlink()

    call_command("restore", str(tmp_path / "backup"), verbosity=0)

    assert everything() == before


def test_a_damaged_dump_is_refused_and_nothing_changes(tmp_path):
    make_site()
    backup = tmp_path / "backup"
    call_command("backup", str(backup), verbosity=0)
    dump = bytearray((backup / DUMP).read_bytes())
    dump[len(dump) // 2] ^= 0xFF
    (backup / DUMP).write_bytes(bytes(dump))
    User.objects.create_user("after-the-backup")

    with pytest.raises(CommandError, match=r"is damaged: database\.dump no longer match"):
        call_command("restore", str(backup), force=True, verbosity=0)
    with pytest.raises(CommandError, match="is damaged"):
        call_command("restore", str(backup), check=True, verbosity=0)
    assert User.objects.filter(username="after-the-backup").exists()


def test_a_backup_without_its_media_copy_is_refused(tmp_path):
    make_site()
    backup = tmp_path / "backup"
    call_command("backup", str(backup), verbosity=0)
    shutil.rmtree(backup / "media")

    with pytest.raises(CommandError, match=r"is incomplete: the media copy \(media/\) is missing"):
        call_command("restore", str(backup), force=True, verbosity=0)


def test_a_backup_that_never_finished_is_refused(tmp_path):
    make_site()
    backup = tmp_path / "backup"
    call_command("backup", str(backup), verbosity=0)
    (backup / MANIFEST).unlink()

    with pytest.raises(CommandError, match="has no manifest.json: it is not a Wavelength backup, or the backup"):
        call_command("restore", str(backup), force=True, verbosity=0)


def test_restore_into_a_database_with_data_needs_force_and_says_what_it_would_replace(tmp_path):
    make_site()
    backup = tmp_path / "backup"
    call_command("backup", str(backup), verbosity=0)
    User.objects.create_user("newcomer")

    replaced = r"already holds 3 users, 36 tracks, 36 track embeddings, .* and 1 file\(s\) in MEDIA_ROOT.*--force"
    with pytest.raises(CommandError, match=replaced):
        call_command("restore", str(backup), verbosity=0)
    assert User.objects.filter(username="newcomer").exists()


def test_backup_into_a_folder_with_files_needs_force_and_replaces_only_a_backup(tmp_path):
    make_site()
    folder = tmp_path / "taken"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")

    with pytest.raises(CommandError, match=r"is not empty \(1 item\(s\)\).*--force"):
        call_command("backup", str(folder), verbosity=0)
    with pytest.raises(CommandError, match="not a Wavelength backup; --force only replaces an earlier backup"):
        call_command("backup", str(folder), force=True, verbosity=0)
    assert (folder / "notes.txt").read_text() == "mine"
    with pytest.raises(CommandError, match="A backup is a folder, not an archive"):
        call_command("backup", str(tmp_path / "site.tar"), verbosity=0)

    backup = tmp_path / "backup"
    call_command("backup", str(backup), verbosity=0)
    with pytest.raises(CommandError, match="is not empty"):
        call_command("backup", str(backup), verbosity=0)
    first = json.loads((backup / MANIFEST).read_text())["created"]
    time.sleep(1.1)
    call_command("backup", str(backup), force=True, verbosity=0)
    assert json.loads((backup / MANIFEST).read_text())["created"] > first
    assert sorted(p.name for p in backup.iterdir()) == [DUMP, MANIFEST, "media"]


def test_a_backup_made_by_newer_code_is_refused(tmp_path):
    make_site()
    backup = tmp_path / "backup"
    call_command("backup", str(backup), verbosity=0)
    manifest = json.loads((backup / MANIFEST).read_text())
    manifest["migrations"]["tracks"].append("0099_from_the_future")
    (backup / MANIFEST).write_text(json.dumps(manifest))

    with pytest.raises(CommandError, match="made by a newer Wavelength: this code lacks its migration"):
        call_command("restore", str(backup), force=True, verbosity=0)


def test_queued_jobs_are_kept_too(tmp_path):
    """django-q's rows are part of the database like any other table (sliders' gate runs leave results)."""
    make_site()
    tasks = Task.objects.count()
    call_command("backup", str(tmp_path / "backup"), verbosity=0)
    Task.objects.all().delete()
    call_command("restore", str(tmp_path / "backup"), force=True, verbosity=0)
    assert Task.objects.count() == tasks


def test_a_restore_that_cannot_take_the_tables_gives_up_and_changes_nothing(tmp_path, monkeypatch):
    make_site()
    backup_folder = tmp_path / "backup"
    call_command("backup", str(backup_folder), verbosity=0)
    User.objects.create_user("after-the-backup")
    monkeypatch.setattr(backup_service, "LOCK_TIMEOUT", "1s")

    # Another process mid-transaction, as a web request reading tracks would be.
    with psycopg.connect(**connection.get_connection_params()) as other:
        other.execute("SELECT count(*) FROM tracks_track").fetchone()
        with pytest.raises(CommandError, match="failed and was rolled back.*stop the web server and the worker"):
            call_command("restore", str(backup_folder), force=True, verbosity=0)
        other.rollback()

    assert User.objects.filter(username="after-the-backup").exists()


def test_client_programs_older_than_the_server_are_refused_with_what_to_install(tmp_path):
    pgserver_bin = backup_service._pgserver_folder()
    too_old = (
        r"version 17 or newer: the database server runs PostgreSQL 17\. Found only pg_dump 16\.\d+ .*"
        r"apt install postgresql-client-17.*--pg-bin"
    )
    with pytest.raises(backup_service.BackupError, match=too_old):
        backup_service.client_programs(17, pg_bin=pgserver_bin)
    with pytest.raises(backup_service.BackupError, match=f"No pg_dump was found in {tmp_path}"):
        backup_service.client_programs(16, pg_bin=tmp_path)
    assert backup_service.client_programs(16, pg_bin=pgserver_bin).major == 16
