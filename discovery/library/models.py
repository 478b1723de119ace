from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from tracks.models import Track

# How long a running job may go without writing progress before it is taken for stopped: the worker's own
# limit (Q_TIMEOUT) plus the time the queue waits before offering a killed task again.
STALLED_AFTER = timedelta(seconds=int(settings.Q_CLUSTER.get("retry", 2100)))


class JobKind(models.TextChoices):
    FOLDER = "folder", "Folder scan"
    ITUNES = "itunes", "iTunes import"
    UPLOAD = "upload", "Upload"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


ACTIVE_STATUSES = [JobStatus.QUEUED, JobStatus.RUNNING]


class ImportJobQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=ACTIVE_STATUSES)

    def stalled(self, now=None):
        """Jobs still marked queued or running that have written nothing for longer than any task may run."""
        return self.active().filter(heartbeat__lt=(now or timezone.now()) - STALLED_AFTER)


class ImportJob(models.Model):
    """One batch of music being added: a folder scan, chosen iTunes songs, or uploaded files.

    The task that runs it (discovery/library/tasks.py) writes its progress here as it goes, and the job page
    polls it. `params` says what to import, in a form the task can run again: folders and files for a scan,
    the search and the chosen trackIds for iTunes, the stored file names for an upload.
    """

    Kind = JobKind
    Status = JobStatus

    objects = ImportJobQuerySet.as_manager()

    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="import_jobs"
    )
    scheduled = models.BooleanField(default=False, help_text="Started by the scheduled rescan of MUSIC_DIRS.")
    retry_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="retries",
        help_text="The job whose failed items this one tries again.",
    )
    params = models.JSONField(default=dict, blank=True)

    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField("failed", default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="Files that hold no audio, songs without a preview.")
    vanished = models.PositiveIntegerField(default=0, help_text="Tracks of a scanned folder whose file is gone.")
    current_item = models.CharField(max_length=1000, blank=True)
    failures = models.JSONField(default=list, blank=True, help_text='[{"item": ..., "reason": ...}, ...]')
    links = models.JSONField(
        default=list, blank=True, help_text='Symbolic links a scan did not follow: [{"item": ..., "reason": ...}]'
    )
    error = models.TextField(blank=True, help_text="Why the job as a whole stopped, when it failed.")
    tracks = models.ManyToManyField(Track, blank=True, related_name="import_jobs",
                                    help_text="The tracks this job added or updated.")

    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    heartbeat = models.DateTimeField(auto_now=True, help_text="When the job last wrote its progress.")

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=JobKind.values), name="import_job_kind_known"),
            models.CheckConstraint(condition=Q(status__in=JobStatus.values), name="import_job_status_known"),
            models.CheckConstraint(condition=~Q(status="failed") | ~Q(error=""), name="import_job_failure_has_reason"),
        ]

    def __str__(self):
        return f"{self.describe()} ({self.get_status_display().lower()})"

    def describe(self) -> str:
        """What the job imports, in a few words."""
        params = self.params or {}
        if self.kind == JobKind.FOLDER:
            parts = []
            if params.get("folders"):
                parts.append(", ".join(params["folders"]))
            if params.get("files"):
                count = len(params["files"])
                parts.append(f"{count} file{'s' if count != 1 else ''}")
            what = " and ".join(parts) or "nothing"
            if self.retry_of_id:
                return f"Another try at {what}"
            return f"Rescan of {what}" if self.scheduled else f"Scan of {what}"
        if self.kind == JobKind.ITUNES:
            count = len(params.get("ids", []))
            return f"iTunes: {count} song{'s' if count != 1 else ''} found by “{params.get('term', '')}”"
        count = len(params.get("files", []))
        return f"Upload of {count} file{'s' if count != 1 else ''}"

    def get_absolute_url(self) -> str:
        return reverse("library_job", args=[self.pk])

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def finished_ok(self) -> bool:
        return self.status == JobStatus.DONE

    @property
    def stalled(self) -> bool:
        return self.active and self.heartbeat is not None and self.heartbeat < timezone.now() - STALLED_AFTER

    @property
    def took(self) -> str:
        """How long a finished job ran, as "42 s" or "3 min 5 s"; empty while it runs."""
        if not (self.started and self.finished):
            return ""
        seconds = max(0, round((self.finished - self.started).total_seconds()))
        minutes, seconds = divmod(seconds, 60)
        return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
