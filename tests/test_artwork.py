"""Artwork found at ingest (tracks/artwork.py): pictures attached to real audio files, covers beside them,
broken and oversized pictures, thumbnails shared by content and deleted with the last track using them."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.artwork_samples import picture_bytes, png_bomb, write_clip_with_picture
from tests.audio_samples import write_clip
from tracks.artwork import SIZES, stored_thumbnail, thumbnail_path, thumbnails
from tracks.models import Track
from tracks.services import ingest_folder, ingest_upload

RED, BLUE = (200, 40, 40), (30, 60, 210)


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def centre_colour(path: Path) -> tuple[int, int, int]:
    with Image.open(path) as image:
        return image.convert("RGB").getpixel((image.width // 2, image.height // 2))


def close(colour, expected, tolerance=12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected))


@pytest.mark.django_db
class TestArtworkAtIngest:
    @pytest.mark.parametrize("codec", ["mp3", "flac"])
    def test_a_picture_attached_to_the_file_becomes_square_jpeg_thumbnails(self, tmp_path, codec):
        write_clip_with_picture(tmp_path / "Music" / f"song.{codec}", picture_bytes(RED), codec=codec)
        ingest_folder(tmp_path / "Music")
        track = Track.objects.get()
        assert track.status == Track.Status.PENDING and len(track.artwork_sha256) == 64
        for size, pixels in SIZES.items():
            path = stored_thumbnail(track, size)
            with Image.open(path) as image:
                assert (image.format, image.size) == ("JPEG", (pixels, pixels))
            assert close(centre_colour(path), RED)

    def test_a_cover_beside_the_file_is_found_whatever_its_letter_case(self, tmp_path, media):
        album = tmp_path / "Music" / "Album"
        album.mkdir(parents=True)
        (album / "Folder.JPG").write_bytes(picture_bytes(BLUE))
        write_clip(album / "01.flac", codec="flac")
        write_clip(album / "02.wav")
        ingest_folder(tmp_path / "Music")
        tracks = list(Track.objects.all())
        assert len(tracks) == 2 and tracks[0].artwork_sha256 and tracks[0].artwork_sha256 == tracks[1].artwork_sha256
        assert close(centre_colour(stored_thumbnail(tracks[0], "large")), BLUE)
        # One picture, one pair of thumbnails, however many tracks show it.
        assert len(list((media / "artwork").rglob("*.jpg"))) == 2

    def test_the_attached_picture_wins_over_the_folder_cover(self, tmp_path):
        album = tmp_path / "Music"
        album.mkdir()
        (album / "cover.png").write_bytes(picture_bytes(BLUE, image_format="PNG"))
        write_clip_with_picture(album / "own.mp3", picture_bytes(RED))
        write_clip(album / "plain.wav")
        ingest_folder(album)
        own, plain = Track.objects.get(title="own"), Track.objects.get(title="plain")
        assert close(centre_colour(stored_thumbnail(own, "small")), RED)
        assert close(centre_colour(stored_thumbnail(plain, "small")), BLUE)

    def test_a_transparent_png_is_flattened_onto_a_dark_background(self, tmp_path):
        album = tmp_path / "Music"
        album.mkdir()
        (album / "cover.png").write_bytes(picture_bytes(BLUE, image_format="PNG", mode="RGBA"))
        write_clip(album / "a.wav")
        ingest_folder(album)
        colour = centre_colour(stored_thumbnail(Track.objects.get(), "small"))
        assert colour[2] > colour[0] + 40 and colour[2] < 180  # blue at half strength over the dark background

    @pytest.mark.parametrize(
        "cover",
        [
            b"this is not a picture at all",
            picture_bytes(RED)[:400],  # a JPEG cut off after its header
            png_bomb(),  # claims 30,000 × 30,000 pixels
            b"",
        ],
        ids=["not-a-picture", "truncated", "decompression-bomb", "empty"],
    )
    def test_a_broken_cover_means_no_artwork_and_never_a_failed_track(self, tmp_path, media, cover):
        album = tmp_path / "Music"
        album.mkdir()
        (album / "cover.jpg").write_bytes(cover)
        write_clip(album / "a.wav")
        report = ingest_folder(album)
        track = Track.objects.get()
        assert len(report.added) == 1 and not report.failed
        assert track.status == Track.Status.PENDING and track.artwork_sha256 == ""
        assert not (media / "artwork").exists()

    def test_a_broken_attached_picture_falls_back_to_the_folder_cover(self, tmp_path):
        album = tmp_path / "Music"
        album.mkdir()
        write_clip_with_picture(album / "a.mp3", picture_bytes(RED)[:300])
        (album / "front.jpg").write_bytes(picture_bytes(BLUE))
        ingest_folder(album)
        track = Track.objects.get()
        assert track.status == Track.Status.PENDING
        assert close(centre_colour(stored_thumbnail(track, "small")), BLUE)

    def test_an_uploaded_file_keeps_its_attached_picture(self, tmp_path):
        path = write_clip_with_picture(tmp_path / "upload.mp3", picture_bytes(RED))
        track, outcome = ingest_upload(SimpleUploadedFile("My Song.mp3", path.read_bytes()))
        assert outcome == "added" and close(centre_colour(stored_thumbnail(track, "large")), RED)

    def test_a_file_changed_to_have_no_picture_loses_its_artwork(self, tmp_path, django_capture_on_commit_callbacks):
        album = tmp_path / "Music"
        album.mkdir()
        write_clip_with_picture(album / "a.mp3", picture_bytes(RED))
        ingest_folder(album)
        old = Track.objects.get().artwork_sha256
        write_clip(album / "a.mp3", codec="mp3", seconds=2.0)
        with django_capture_on_commit_callbacks(execute=True):
            ingest_folder(album)
        assert Track.objects.get().artwork_sha256 == ""
        assert not thumbnail_path(old, "small").exists()


@pytest.mark.django_db
class TestThumbnailsAreSharedAndCleanedUp:
    def test_deleting_a_track_keeps_the_thumbnails_another_track_shows(
        self, tmp_path, django_capture_on_commit_callbacks
    ):
        album = tmp_path / "Music"
        album.mkdir()
        (album / "cover.jpg").write_bytes(picture_bytes(BLUE))
        write_clip(album / "a.wav")
        write_clip(album / "b.wav")
        ingest_folder(album)
        first, second = Track.objects.all()
        sha256 = first.artwork_sha256
        with django_capture_on_commit_callbacks(execute=True):
            first.delete()
        assert thumbnail_path(sha256, "small").is_file() and thumbnail_path(sha256, "large").is_file()
        with django_capture_on_commit_callbacks(execute=True):
            second.delete()
        assert not thumbnail_path(sha256, "small").exists() and not thumbnail_path(sha256, "large").exists()


class TestThumbnails:
    def test_a_wide_picture_is_centre_cropped_not_squashed(self):
        wide = Image.new("RGB", (400, 100), BLUE)
        wide.paste(Image.new("RGB", (100, 100), RED), (150, 0))  # red only in the middle square
        out = io.BytesIO()
        wide.save(out, "PNG")
        small = Image.open(io.BytesIO(thumbnails(out.getvalue())["small"]))
        assert close(small.getpixel((5, 48)), RED, tolerance=40) and close(small.getpixel((90, 48)), RED, tolerance=40)

    def test_an_animated_gif_gives_its_first_frame(self):
        frames = [Image.new("RGB", (64, 64), colour) for colour in (RED, BLUE)]
        out = io.BytesIO()
        frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
        small = Image.open(io.BytesIO(thumbnails(out.getvalue())["small"]))
        assert close(small.getpixel((48, 48)), RED, tolerance=30)
