"""The audio view sends files from MEDIA_ROOT and the operator's library roots only (tracks/roots.py)."""

import logging
import os
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse

from tests.audio_samples import write_clip
from tracks.models import LibraryRoot, Track
from tracks.roots import is_inside, is_servable, record_library_root

AUDIO_BYTES = bytes(range(256)) * 40
SECRET = b"django-insecure-" + b"k" * 51  # 67 bytes, like the generated $WAVELENGTH_DATA/secret_key


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def music(tmp_path, settings) -> Path:
    """A library root named in MUSIC_DIRS, with one clip, and a data folder beside it holding a secret."""
    root = tmp_path / "music"
    root.mkdir()
    (root / "clip.ogg").write_bytes(AUDIO_BYTES)
    data = tmp_path / "data"
    data.mkdir()
    (data / "secret_key").write_bytes(SECRET)
    settings.MUSIC_DIRS = [root]
    return root


def folder_track(path) -> Track:
    return Track.objects.create(title="T", source="folder", source_key=str(path), audio_path=str(path))


def audio(client, track, **headers):
    return client.get(reverse("track_audio", args=[track.pk]), **headers)


@pytest.mark.django_db
class TestOnlyTheRootsAreServed:
    def test_a_path_outside_every_root_is_404_for_everyone_and_logged(
        self, client, owner, outsider, staff, music, caplog
    ):
        secret = music.parent / "data" / "secret_key"
        track = folder_track(secret)
        for user in (owner, outsider, staff):
            client.force_login(user)
            with caplog.at_level(logging.WARNING, logger="tracks.roots"):
                response = audio(client, track)
            assert response.status_code == 404
            assert SECRET not in response.content
        assert f"Track {track.pk}" in caplog.text and str(secret) in caplog.text

    def test_a_path_that_climbs_out_of_a_root_is_404(self, owner_client, music):
        track = folder_track(f"{music}/../data/secret_key")
        assert audio(owner_client, track).status_code == 404

    def test_a_sibling_folder_sharing_the_roots_prefix_is_not_inside_it(self, owner_client, music):
        sibling = music.parent / "music2"
        sibling.mkdir()
        (sibling / "clip.ogg").write_bytes(AUDIO_BYTES)
        assert audio(owner_client, folder_track(sibling / "clip.ogg")).status_code == 404

    def test_a_file_inside_a_music_dirs_root_streams_with_ranges(self, owner_client, music):
        track = folder_track(music / "clip.ogg")
        whole = audio(owner_client, track)
        assert whole.status_code == 200 and body(whole) == AUDIO_BYTES
        part = audio(owner_client, track, HTTP_RANGE="bytes=100-199")
        assert part.status_code == 206 and body(part) == AUDIO_BYTES[100:200]
        assert part["Content-Range"] == f"bytes 100-199/{len(AUDIO_BYTES)}"

    def test_a_symlink_the_operator_placed_inside_a_root_is_followed(self, owner_client, music, tmp_path):
        elsewhere = tmp_path / "elsewhere.ogg"
        elsewhere.write_bytes(AUDIO_BYTES[::-1])
        (music / "linked.ogg").symlink_to(elsewhere)
        response = audio(owner_client, folder_track(music / "linked.ogg"))
        assert response.status_code == 200 and body(response) == AUDIO_BYTES[::-1]

    def test_a_root_reached_through_a_symlink_counts_in_either_spelling(self, owner_client, music, settings):
        alias = music.parent / "music-alias"
        alias.symlink_to(music)
        settings.MUSIC_DIRS = [alias]
        assert audio(owner_client, folder_track(music / "clip.ogg")).status_code == 200
        assert audio(owner_client, folder_track(alias / "clip.ogg")).status_code == 200

    def test_a_file_in_media_root_is_served(self, owner_client, settings):
        track = Track.objects.create(title="Stored", source="upload", source_key="a" * 64)
        track.audio_file.save("clip.ogg", ContentFile(AUDIO_BYTES))
        assert Path(track.audio_file.path).is_relative_to(settings.MEDIA_ROOT)
        response = audio(owner_client, track)
        assert response.status_code == 200 and body(response) == AUDIO_BYTES

    @pytest.mark.parametrize("name", ["../../../../etc/hostname", "/etc/hostname"])
    def test_a_stored_file_name_that_leaves_media_root_is_404(self, owner_client, name):
        track = Track.objects.create(title="Odd", source="upload", source_key="b" * 64, audio_file=name)
        assert audio(owner_client, track).status_code == 404

    def test_without_any_root_a_folder_track_is_not_served(self, owner_client, music, settings):
        settings.MUSIC_DIRS = []
        assert audio(owner_client, folder_track(music / "clip.ogg")).status_code == 404


@pytest.mark.django_db
class TestLibraryRootsFromIngest:
    def test_the_command_line_ingest_records_its_folder_and_its_tracks_play(self, owner_client, tmp_path, settings):
        settings.MUSIC_DIRS = []
        root = tmp_path / "Library"
        root.mkdir()
        write_clip(root / "song.flac", seconds=1.5, codec="flac")
        call_command("ingest_folder", str(root))
        assert list(LibraryRoot.objects.values_list("path", flat=True)) == [str(root.resolve())]
        track = Track.objects.get()
        response = audio(owner_client, track)
        assert response.status_code == 200 and body(response) == (root / "song.flac").read_bytes()

    def test_a_folder_inside_music_dirs_is_not_recorded_and_plays_while_music_dirs_names_it(
        self, owner_client, music, settings
    ):
        (music / "Jazz").mkdir()
        write_clip(music / "Jazz" / "tune.flac", seconds=1.5, codec="flac")
        call_command("ingest_folder", str(music / "Jazz"))
        assert not LibraryRoot.objects.exists()  # so a scan staff start from the site adds no root either
        track = Track.objects.get()
        assert audio(owner_client, track).status_code == 200
        settings.MUSIC_DIRS = []
        assert audio(owner_client, track).status_code == 404

    def test_recording_a_root_twice_keeps_one_row(self, tmp_path):
        record_library_root(tmp_path)
        record_library_root(tmp_path / ".")
        assert LibraryRoot.objects.count() == 1

    def test_the_admin_shows_roots_but_cannot_add_or_change_them(self, staff_client, tmp_path):
        root = record_library_root(tmp_path)
        assert str(tmp_path) in staff_client.get(reverse("admin:tracks_libraryroot_changelist")).content.decode()
        assert staff_client.get(reverse("admin:tracks_libraryroot_add")).status_code == 403
        page = staff_client.get(reverse("admin:tracks_libraryroot_change", args=[root.pk])).content.decode()
        assert 'name="path"' not in page


class TestContainment:
    @pytest.mark.parametrize(
        "path, root, inside",
        [
            ("/music/a.ogg", "/music", True),
            ("/music", "/music", True),
            ("/music2/a.ogg", "/music", False),
            ("/musical.ogg", "/music", False),
            ("/music/sub/a.ogg", "/music/", True),
            ("/anything", "/", True),
        ],
    )
    def test_a_root_contains_paths_on_component_boundaries(self, path, root, inside):
        assert is_inside(path, root) is inside

    @pytest.mark.parametrize(
        "path",
        ["relative/a.ogg", "/music/../etc/passwd", "/music/sub/../a.ogg", "/music/a\x00.ogg", "/etc/passwd"],
    )
    def test_relative_climbing_and_outside_paths_are_refused(self, path):
        assert not is_servable(path, roots=["/music"])

    def test_doubled_separators_and_dots_are_normalised(self):
        assert is_servable("/music//sub/./a.ogg", roots=["/music"])
        assert os.path.normpath("/music//sub/./a.ogg") == "/music/sub/a.ogg"
