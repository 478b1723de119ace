import re
from pathlib import Path

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector, SearchVectorField
from django.db import models, transaction
from django.db.models import Count, F, Q
from django.db.models.signals import post_delete
from django.dispatch import receiver

import discovery.lib.lookups  # noqa: F401  (registers `pk__any=[...]`)

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_SEARCH_WORDS = 8


class TrackSource(models.TextChoices):
    ITUNES = "itunes", "iTunes preview"
    FOLDER = "folder", "Local folder"
    UPLOAD = "upload", "Upload"


class TrackStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting to be decoded and embedded (again)
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class TrackQuerySet(models.QuerySet):
    """The one vocabulary for "which tracks": every listener-facing list starts from `canonical()`."""

    def visible(self):
        """Tracks a listener may open and play: not hidden by a curator (staff see hidden ones in the admin)."""
        return self.filter(hidden=False)

    def canonical(self):
        """Visible tracks that are not a re-release of another: what search, seeds, stations, sliders and
        playlists offer, so one recording never appears twice."""
        return self.visible().filter(duplicate_of__isnull=True)

    def matching(self, query: str):
        """Tracks whose title, artist or album match every word of `query` as a prefix, best match first."""
        words = _WORD.findall(query.casefold())[:MAX_SEARCH_WORDS]
        if not words:
            return self.none()
        # Prefix matching on each word ("beat" finds "Beatles"); the words are \\w+ only, so nothing the user
        # typed can change the tsquery's syntax.
        tsquery = SearchQuery(" & ".join(f"{word}:*" for word in words), search_type="raw", config="simple")
        return (
            self.filter(search_document=tsquery)
            .annotate(rank=SearchRank(F("search_document"), tsquery))
            .order_by("-rank", "artist", "title", "pk")
        )


class Track(models.Model):
    """One recording in the corpus, wherever its audio came from."""

    objects = TrackQuerySet.as_manager()

    Source = TrackSource
    Status = TrackStatus

    title = models.CharField(max_length=500)
    artist = models.CharField(max_length=500, blank=True)
    album = models.CharField(max_length=500, blank=True)
    genre = models.CharField(max_length=200, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_s = models.FloatField("duration (s)", null=True, blank=True)

    source = models.CharField(max_length=16, choices=Source.choices)
    source_key = models.CharField(
        max_length=1000,
        help_text="Identity within the source: the iTunes trackId, the file's path, or the upload's checksum.",
    )
    preview_url = models.URLField(max_length=1000, blank=True)
    audio_file = models.FileField(
        upload_to="audio/", max_length=500, blank=True, help_text="Audio kept in the site's media storage."
    )
    audio_path = models.CharField(
        max_length=1000, blank=True, help_text="Absolute path of an audio file left where it was found."
    )
    artwork_url = models.URLField(max_length=1000, blank=True)
    artwork_sha256 = models.CharField(
        "artwork SHA-256",
        max_length=64,
        blank=True,
        default="",
        db_default="",  # rows written without the column (raw SQL, older code during a deploy) get no picture
        db_index=True,
        help_text="The picture whose thumbnails show this track (tracks/artwork.py); empty: a tile from its sound.",
    )
    content_sha256 = models.CharField("content SHA-256", max_length=64, blank=True, db_index=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    error = models.TextField(blank=True, help_text="Why the track failed, in words a curator can act on.")
    hidden = models.BooleanField(default=False, help_text="Hidden tracks are never recommended.")
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duplicates",
        help_text="The canonical recording this one re-releases or remasters.",
    )

    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    # Kept by PostgreSQL itself. The 'simple' configuration neither stems nor drops stop words: names of songs
    # and bands are not English prose ("The The", "Let It Be"), and it works for every language alike.
    search_document = models.GeneratedField(
        expression=SearchVector("title", weight="A", config="simple")
        + SearchVector("artist", weight="A", config="simple")
        + SearchVector("album", weight="B", config="simple"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["artist", "title", "id"]
        indexes = [GinIndex(fields=["search_document"], name="track_search_document")]
        constraints = [
            models.UniqueConstraint(fields=["source", "source_key"], name="track_unique_source_key"),
            models.CheckConstraint(condition=Q(source__in=TrackSource.values), name="track_source_known"),
            models.CheckConstraint(condition=~Q(source_key=""), name="track_source_key_not_empty"),
            models.CheckConstraint(condition=Q(status__in=TrackStatus.values), name="track_status_known"),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(error=""), name="track_failure_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(duration_s__isnull=True) | Q(duration_s__gte=0), name="track_duration_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(content_sha256="") | Q(content_sha256__regex=r"^[0-9a-f]{64}$"),
                name="track_sha256_is_hex",
            ),
            models.CheckConstraint(  # it names files under MEDIA_ROOT/artwork/
                condition=Q(artwork_sha256="") | Q(artwork_sha256__regex=r"^[0-9a-f]{64}$"),
                name="track_artwork_sha256_is_hex",
            ),
            models.CheckConstraint(
                condition=Q(duplicate_of__isnull=True) | ~Q(duplicate_of=F("id")),
                name="track_not_duplicate_of_itself",
            ),
        ]

    def __str__(self):
        return f"{self.artist} – {self.title}" if self.artist else self.title

    @property
    def local_audio_path(self) -> Path | None:
        """The audio file on this machine, if there is one."""
        if self.audio_file:
            return Path(self.audio_file.path)
        if self.audio_path:
            return Path(self.audio_path)
        return None

    @property
    def has_audio(self) -> bool:
        return bool(self.audio_file or self.audio_path or self.preview_url)


@receiver(post_delete, sender=Track, dispatch_uid="tracks.track.delete_stored_audio")
def _delete_stored_audio(sender, instance: Track, **kwargs):
    """A deleted track takes the audio the site stored for it in MEDIA_ROOT along, once the deletion is
    committed (a rolled-back delete keeps it) and only if no other track plays the same file.

    A signal rather than an admin hook, because Django sends post_delete for every row of a queryset delete
    too: the admin's bulk action, the shell and every other caller are covered alike. Files left where ingest
    found them (audio_path) belong to the operator and are never deleted.
    """
    name = instance.audio_file.name
    if name:
        from tracks.media import delete_stored_audio  # tracks.media needs these models

        transaction.on_commit(lambda: delete_stored_audio(name), using=kwargs.get("using"))


class LibraryRoot(models.Model):
    """A folder of the operator's music that `manage.py ingest_folder` read: the site may serve audio from it.

    Only commands write these rows (the admin shows them read-only), since only the operator runs commands.
    """

    path = models.CharField(max_length=1000, unique=True, help_text="Absolute, normalised path of the folder.")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(condition=Q(path__startswith="/"), name="library_root_path_absolute"),
        ]

    def __str__(self):
        return self.path


def status_counts(tracks) -> dict[str, int]:
    """{"ready": n, "pending": n, "failed": n} of a queryset of tracks, in one query."""
    return tracks.aggregate(
        **{status: Count("id", filter=Q(status=status)) for status in TrackStatus.values}
    )
