"""Starting import jobs from the site and trying their failures again. Views call these with clean values."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from django_q.tasks import async_task

from discovery.lib.forms import ListenerError
from discovery.library import uploads
from discovery.library.itunes_search import SEARCH_LIMIT
from discovery.library.models import ImportJob
from discovery.library.runner import EMBEDDING_ITEM, give_up_stalled
from embedding.services import mark_pending_and_enqueue
from tracks.models import Track, status_counts

log = logging.getLogger(__name__)

TASK = "discovery.library.tasks.run_import_job"
TRACKS_SHOWN = 100


def _queue(job: ImportJob) -> ImportJob:
    """Hand the saved job to the worker (with a synchronous queue, as in tests, it runs right here)."""
    try:
        async_task(TASK, job.pk, group="library", task_name=f"import job {job.pk}")
    except Exception as error:  # the queue is unreachable: the page says so rather than waiting forever
        log.exception("Could not queue import job %s", job.pk)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED, error=f"The job could not be queued for the worker: {error}"
        )
        if job.kind == ImportJob.Kind.UPLOAD:
            uploads.discard(job.pk)
    job.refresh_from_db()
    return job


def scan_in_progress(folder: Path) -> ImportJob | None:
    """An unfinished scan of the same folder, if one is queued or running (a second would read it twice)."""
    give_up_stalled()
    scans = ImportJob.objects.active().filter(kind=ImportJob.Kind.FOLDER)
    return scans.filter(params__folders__contains=[str(folder)]).first()


def start_folder_scan(user, folder: Path) -> ImportJob:
    """Scan `folder` (already checked to be inside MUSIC_DIRS) in the background."""
    job = ImportJob.objects.create(kind=ImportJob.Kind.FOLDER, created_by=user, params={"folders": [str(folder)]})
    return _queue(job)


def start_itunes_import(user, term: str, country: str, track_ids: list[int]) -> ImportJob:
    params = {"term": term, "country": country, "limit": SEARCH_LIMIT, "ids": track_ids}
    return _queue(ImportJob.objects.create(kind=ImportJob.Kind.ITUNES, created_by=user, params=params))


def start_upload(user, files) -> ImportJob:
    """Keep the uploaded `files` for the worker and queue their import; the request's own copies go when it ends."""
    job = ImportJob.objects.create(kind=ImportJob.Kind.UPLOAD, created_by=user)
    try:
        job.params = {"files": uploads.store(job.pk, files)}
    except OSError as error:  # a full disk, say: nothing of the upload stays behind, and staff read why
        job.delete()
        raise ListenerError(f"The files could not be stored on the server: {error.strerror or error}.") from error
    job.save(update_fields=["params"])
    return _queue(job)


@dataclass(frozen=True)
class Retry:
    job: ImportJob | None  # the new job trying the failed items again, if any can be
    requeued_tracks: int  # tracks of the job whose embedding failed, queued again


def retryable_items(job: ImportJob) -> list:
    """What of `job` can be tried again by a new job: the failed files of a scan, the failed iTunes songs."""
    if job.active:
        return []
    if job.kind == ImportJob.Kind.FOLDER:
        if job.status == ImportJob.Status.FAILED:  # the job as a whole stopped: all of it again
            return [*job.params.get("files", []), *job.params.get("folders", [])]
        return [f["item"] for f in job.failures if f["item"] != EMBEDDING_ITEM]
    if job.kind == ImportJob.Kind.ITUNES:
        chosen = [str(track_id) for track_id in job.params.get("ids", [])]
        usable = set(
            Track.objects.filter(source=Track.Source.ITUNES, source_key__in=chosen)
            .exclude(status=Track.Status.FAILED)
            .values_list("source_key", flat=True)
        )
        return [int(track_id) for track_id in chosen if track_id not in usable]
    return []  # uploads: the files were removed after the job; upload them again


def failed_tracks(job: ImportJob):
    return job.tracks.filter(status=Track.Status.FAILED)


def can_retry(job: ImportJob) -> bool:
    return not job.active and (bool(retryable_items(job)) or failed_tracks(job).exists())


def retry_failed(job: ImportJob, user) -> Retry:
    """Try again what failed in `job`: its failed items in a new job, its failed tracks' embedding at once."""
    requeued = list(failed_tracks(job).values_list("pk", flat=True))
    if requeued:
        mark_pending_and_enqueue(requeued)
    items = retryable_items(job)
    new_job = None
    if items:
        if job.kind == ImportJob.Kind.FOLDER:
            # A failed item of a scan is a file, or a folder that was not there or could not be listed.
            folders = set(job.params.get("folders", []))
            is_folder = [item in folders or os.path.isdir(item) for item in items]
            params = {
                "files": [item for item, folder in zip(items, is_folder) if not folder],
                "folders": [item for item, folder in zip(items, is_folder) if folder],
            }
        else:
            params = {**job.params, "ids": items}
        new_job = _queue(ImportJob.objects.create(kind=job.kind, created_by=user, retry_of=job, params=params))
    return Retry(job=new_job, requeued_tracks=len(requeued))


@dataclass(frozen=True)
class JobTracks:
    counts: dict  # {"ready": n, "pending": n, "failed": n}
    shown: list  # the first TRACKS_SHOWN of them
    total: int

    @property
    def embedding(self) -> bool:
        return self.counts["pending"] > 0


def job_tracks(job: ImportJob) -> JobTracks:
    counts = status_counts(job.tracks.all())
    return JobTracks(counts=counts, shown=list(job.tracks.order_by("pk")[:TRACKS_SHOWN]), total=sum(counts.values()))


def recent_jobs(limit: int = 10):
    return ImportJob.objects.select_related("created_by")[:limit]
