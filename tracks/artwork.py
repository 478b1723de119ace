"""A track's cover art: found at ingest, kept as two small square thumbnails, removed with the last track using it.

Where a picture comes from, first found wins:
1. a picture attached to the audio file itself (an ID3 APIC frame, a FLAC PICTURE block, an MP4 `covr` atom;
   FFmpeg shows each as a stream with the `attached_pic` disposition), the front cover preferred;
2. a cover image beside the file (cover.jpg, folder.jpg, cover.png, front.jpg, ..., in any letter case);
3. for iTunes previews, the artwork URL of the search result, fetched with the iTunes client (its spacing,
   retries and timeouts).

Pictures come from files and servers nobody here controls, so they are decoded defensively: a size limit on
the bytes and on the pixels (decompression bombs), a short list of formats, and any picture Pillow cannot
decode is simply no picture. Artwork never fails a track.

Thumbnails are stored under MEDIA_ROOT/artwork/<aa>/<sha256>-<px>.jpg, named by the SHA-256 of the original
picture: the twelve tracks of an album that share one cover.jpg share one pair of thumbnails. The track's
`artwork_sha256` says which pair is its own.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
import time
import urllib.parse
import warnings
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import av
from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from PIL import Image, ImageOps

from tracks.media import StoredFile
from tracks.models import Track

log = logging.getLogger(__name__)

ARTWORK_FOLDER = "artwork"
# Shown at 64 and 200 CSS pixels; 96 and 320 stay sharp at 1.5× and 1.6× device pixels.
SIZES = {"small": 96, "large": 320}
JPEG_QUALITY = 85

# Real covers are at most a few MB (3000×3000 JPEG); anything far beyond that is not worth decoding.
MAX_PICTURE_BYTES = 16 * 1024 * 1024
MAX_PICTURE_PIXELS = 40_000_000  # 6300×6300; Pillow's own bomb limit is 89 M, and only warns below 179 M
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")
# Lower-case names of cover images beside an audio file, best first.
COVER_NAMES = (
    "cover.jpg", "cover.jpeg", "cover.png", "cover.webp", "folder.jpg", "folder.jpeg", "folder.png",
    "front.jpg", "front.jpeg", "front.png", "album.jpg", "album.png",
)
APPLE_ARTWORK_DOMAIN = "mzstatic.com"  # where the Search API's artworkUrl100 points (is1-ssl.mzstatic.com, ...)
BACKGROUND = (24, 28, 36)  # behind transparent pictures: the site's dark card colour


class NoArtwork(Exception):
    """The bytes are not a picture worth keeping (broken, too big, an unknown format)."""


def thumbnail_name(sha256: str, size: str) -> str:
    """The thumbnail's name relative to MEDIA_ROOT (forward slashes)."""
    return f"{ARTWORK_FOLDER}/{sha256[:2]}/{sha256}-{SIZES[size]}.jpg"


def thumbnail_path(sha256: str, size: str) -> Path:
    return Path(settings.MEDIA_ROOT) / thumbnail_name(sha256, size)


def stored_thumbnail(track: Track, size: str) -> Path | None:
    """The track's stored thumbnail of `size` ("small" or "large"), if it has one on disk."""
    if not track.artwork_sha256:
        return None
    path = thumbnail_path(track.artwork_sha256, size)
    return path if path.is_file() else None


def read_thumbnail(track: Track, size: str) -> bytes | None:
    """The bytes of the track's stored thumbnail of `size` (a few KB), or None when it has none on disk."""
    path = stored_thumbnail(track, size)
    try:
        return path.read_bytes() if path is not None else None
    except OSError:  # removed since it was looked for (cleanup_media, a deleted track)
        return None


def thumbnails(data: bytes) -> dict[str, bytes]:
    """JPEG thumbnails of every size in SIZES, square (centre-cropped), from the picture `data`.

    Raises NoArtwork for anything that is not a picture Pillow can decode within the limits.
    """
    if not data or len(data) > MAX_PICTURE_BYTES:
        raise NoArtwork(f"{len(data)} bytes is not a picture size worth decoding")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=FORMATS) as image:
                width, height = image.size  # read from the header, before any pixel is decoded
                if width < 1 or height < 1 or width * height > MAX_PICTURE_PIXELS:
                    raise NoArtwork(f"a {width}×{height} picture is beyond the limit")
                # A JPEG decodes straight at a fraction of its size (1/2, 1/4, 1/8): a 3000-px cover costs
                # what a 750-px one does.
                image.draft("RGB", (2 * max(SIZES.values()),) * 2)
                image.seek(0)  # the first frame of an animated GIF or WebP
                image.load()
                picture = _as_rgb(ImageOps.exif_transpose(image))
    except NoArtwork:
        raise
    except Exception as error:  # DecompressionBombWarning included: it is raised as an error above
        # Pillow's decoders answer hostile or damaged input with a spread of exception types (OSError,
        # ValueError, SyntaxError, struct.error, EOFError, ...): each of them means "no picture" here.
        raise NoArtwork(f"the picture cannot be decoded: {error}") from error
    side = min(picture.size)
    left, top = (picture.width - side) // 2, (picture.height - side) // 2
    square = picture.crop((left, top, left + side, top + side))  # the centre: a cover is never squashed
    result = {}
    for size, pixels in SIZES.items():
        # reducing_gap: shrink by whole factors first, then Lanczos for the last step (1000 px: 18 ms, not 43).
        small = square.resize((pixels, pixels), Image.Resampling.LANCZOS, reducing_gap=3.0)
        out = io.BytesIO()
        small.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
        result[size] = out.getvalue()
    return result


def _as_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, BACKGROUND)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def store_picture(data: bytes) -> str:
    """Store the thumbnails of the picture `data` (once per distinct picture); returns its SHA-256.

    Raises NoArtwork when `data` is not a usable picture.
    """
    sha256 = hashlib.sha256(data).hexdigest()
    if all(thumbnail_path(sha256, size).is_file() for size in SIZES):
        return sha256
    for size, jpeg in thumbnails(data).items():
        _write_atomically(thumbnail_path(sha256, size), jpeg)
    return sha256


def _write_atomically(path: Path, data: bytes) -> None:
    # Written beside, then renamed: the artwork view never serves half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".jpg")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def attached_picture(path: Path) -> bytes | None:
    """The picture attached to the audio file at `path`, the front cover where it holds several."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            pictures = [s for s in container.streams if s.disposition & av.stream.Disposition.attached_pic]
            # ID3 and FLAC name each picture's type; FFmpeg puts it in the stream's "comment".
            pictures.sort(key=lambda s: (s.metadata.get("comment", "").casefold() != "cover (front)", s.index))
            for stream in pictures:
                for packet in container.demux(stream):
                    if packet.stream is stream and 0 < packet.size <= MAX_PICTURE_BYTES:
                        return bytes(packet)
                    break
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as error:
        log.info("No attached picture read from %s: %s", path, error)
    return None


def cover_beside(path: Path) -> Path | None:
    """A cover image in the folder of the audio file at `path` (cover.jpg, folder.jpg, ...; any case)."""
    folder = path.parent
    try:
        changed = folder.stat().st_mtime_ns
    except OSError:
        return None
    names = _image_names(str(folder), changed)
    for wanted in COVER_NAMES:
        if wanted in names:
            return folder / names[wanted]
    return None


@lru_cache(maxsize=64)
def _image_names(folder: str, changed_ns: int) -> dict[str, str]:
    """Lower-case name → real name of the cover-like files in `folder`; listed once per folder and change,
    because every track of an album asks about the same folder."""
    try:
        with os.scandir(folder) as entries:
            return {entry.name.casefold(): entry.name for entry in entries if entry.name.casefold() in COVER_NAMES}
    except OSError:
        return {}


def _cover_bytes(path: Path) -> bytes | None:
    cover = cover_beside(path)
    if cover is None:
        return None
    try:
        with open(cover, "rb") as handle:
            data = handle.read(MAX_PICTURE_BYTES + 1)
    except OSError as error:
        log.info("Cover %s could not be read: %s", cover, error)
        return None
    return data if len(data) <= MAX_PICTURE_BYTES else None


def find_artwork(path: Path) -> str:
    """Store the artwork of the audio file at `path` (attached, else a cover beside it); its SHA-256 or ""."""
    for read in (attached_picture, _cover_bytes):
        data = read(path)
        if not data:
            continue
        try:
            return store_picture(data)
        except NoArtwork as error:
            log.info("Artwork of %s skipped: %s", path, error)
        except OSError as error:  # MEDIA_ROOT full or read-only: the track goes on without art
            log.warning("Artwork of %s could not be stored: %s", path, error)
    return ""


def attach_found_artwork(track: Track, path: Path) -> None:
    """Give `track` the artwork of its audio file at `path` (called while its file is read at ingest).

    Art found replaces what the track had. A file without art leaves an iTunes preview's fetched artwork in
    place (previews carry none of their own) and clears any other track's art, which came from its file.
    """
    found = find_artwork(path)
    if found or track.source != Track.Source.ITUNES:
        set_artwork(track, found)


def look_again(track: Track, fetch: Callable[[str], bytes] | None = None) -> bool:
    """Look for the artwork of a track already in the catalogue (manage.py fetch_artwork): in its audio file
    and beside it, then, for an iTunes preview still without art, at its artwork URL with `fetch`. True when
    the track has artwork afterwards. A file that is not there now changes nothing."""
    path = track.local_audio_path
    if path is not None and path.is_file():
        with transaction.atomic():
            before = track.artwork_sha256
            attach_found_artwork(track, path)
            if track.artwork_sha256 != before:
                track.save(update_fields=["artwork_sha256"])
    if fetch is not None and track.source == Track.Source.ITUNES:
        store_artwork_from_url(track, fetch)
    return bool(track.artwork_sha256)


def store_artwork_from_url(track: Track, fetch: Callable[[str], bytes]) -> bool:
    """Fetch and store the picture at `track.artwork_url` when the track has no artwork yet; True if stored.

    `fetch` is the iTunes client's (tracks/itunes.py): its failures, ITunesError (a RuntimeError), are logged
    and the track goes on without art.
    """
    if track.artwork_sha256 or not artwork_url_allowed(track.artwork_url):
        return False
    try:
        sha256 = store_picture(fetch(track.artwork_url))
    except (RuntimeError, NoArtwork, OSError) as error:
        log.warning("Artwork of %s not stored from %s: %s", track, track.artwork_url, error)
        return False
    with transaction.atomic():
        set_artwork(track, sha256)
        track.save(update_fields=["artwork_sha256"])
    return True


def artwork_url_allowed(url: str) -> bool:
    """Whether the server may fetch `url` as artwork: only from Apple's artwork hosts (mzstatic.com) or the
    host of ITUNES_BASE_URL (a mirror or stand-in), never wherever a search result happens to point."""
    parts = urllib.parse.urlsplit(url or "")
    host = (parts.hostname or "").casefold()
    if parts.scheme not in ("https", "http") or not host:
        return False
    api_host = (urllib.parse.urlsplit(settings.ITUNES_BASE_URL).hostname or "").casefold()
    return host == APPLE_ARTWORK_DOMAIN or host.endswith("." + APPLE_ARTWORK_DOMAIN) or host == api_host


def set_artwork(track: Track, sha256: str) -> None:
    """Point `track` at the thumbnails of `sha256` ("" for none); the caller saves the track. Thumbnails it
    no longer uses go once that is committed, unless another track uses them."""
    old = track.artwork_sha256
    track.artwork_sha256 = sha256
    if old and old != sha256:
        transaction.on_commit(lambda: delete_unused_artwork(old))


def delete_unused_artwork(sha256: str) -> bool:
    """Delete the thumbnails of `sha256` unless a track still uses them; True if any file was deleted."""
    if not sha256 or Track.objects.filter(artwork_sha256=sha256).exists():
        return False
    deleted = False
    for size in SIZES:
        deleted = _delete_thumbnail(thumbnail_name(sha256, size)) or deleted
    return deleted


@receiver(post_delete, sender=Track, dispatch_uid="tracks.track.delete_stored_artwork")
def _delete_artwork_with_track(sender, instance: Track, **kwargs):
    # As for stored audio (tracks/models.py): after the commit, and only when no other track shows it.
    sha256 = instance.artwork_sha256
    if sha256:
        transaction.on_commit(lambda: delete_unused_artwork(sha256), using=kwargs.get("using"))


def _artwork_root() -> str:
    return os.path.normpath(os.path.join(os.path.abspath(settings.MEDIA_ROOT), ARTWORK_FOLDER))


def _delete_thumbnail(name: str) -> bool:
    root = _artwork_root()
    path = os.path.normpath(os.path.join(os.path.dirname(root), name))
    if not path.startswith(root + os.sep) or os.path.islink(path) or not os.path.isfile(path):
        return False
    try:
        os.remove(path)
    except OSError as error:
        log.warning("Could not delete the thumbnail %s: %s", path, error)
        return False
    return True


def delete_stored_artwork(name: str) -> bool:
    """Delete the stored thumbnail `name` (as unreferenced_artwork_files lists it) unless a track uses it."""
    sha256 = Path(name).stem.rsplit("-", 1)[0]
    if Track.objects.filter(artwork_sha256=sha256).exists():
        return False
    return _delete_thumbnail(name)


def unreferenced_artwork_files(min_age_s: float = 0.0) -> list[StoredFile]:
    """Thumbnails in MEDIA_ROOT/artwork that no track uses, older than `min_age_s` seconds (a young one may
    belong to an ingest that has not committed yet). Symlinks and hidden files are never listed."""
    root = _artwork_root()
    if os.path.islink(root) or not os.path.isdir(root):
        return []
    used = set(Track.objects.exclude(artwork_sha256="").values_list("artwork_sha256", flat=True))
    newest = time.time() - min_age_s
    found = []
    for parent, subfolders, files in os.walk(root, followlinks=False):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for file_name in sorted(files):
            path = os.path.join(parent, file_name)
            if file_name.startswith(".") or os.path.islink(path) or not os.path.isfile(path):
                continue
            if file_name.rsplit("-", 1)[0] in used:
                continue
            stat = os.lstat(path)
            if stat.st_mtime > newest:
                continue
            name = os.path.relpath(path, os.path.dirname(root)).replace(os.sep, "/")
            found.append(StoredFile(name=name, path=path, size=stat.st_size))
    return found
