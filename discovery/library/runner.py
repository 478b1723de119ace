"""Running an import job: read its items through the catalogue's ingest functions, write progress to the job
as it goes, and queue what it added or changed for embedding at the end.

A job may be delivered twice (its worker died and the queue offered it again): the ingest functions are
idempotent, so the second run starts the counts afresh and adds nothing twice.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.utils import timezone

from discovery.library import uploads
from discovery.library.folders import inside_music_dirs, music_dirs, outside_message
from discovery.library.models import ImportJob
from embedding.services import enqueue_embedding
from tracks.itunes import ITunesClient, ITunesError, ingest_itunes
from tracks.models import Track
from tracks.services import IngestReport, ingest_folder, ingest_upload, save_audio_track

log = logging.getLogger(__name__)

# Progress is written at most this often (the page polls every 2 s); counts and the end are written at once.
SAVE_EVERY_S = 0.5
# Failures kept on the job for the page and for "retry failed"; the count stays exact beyond it.
MAX_FAILURES_KEPT = 2000
EMBEDDING_ITEM = "Embedding"  # the failure item saying the new tracks could not be queued for embedding
PROGRESS_FIELDS = ["total", "done", "current_item", "heartbeat"]
COUNT_FIELDS = ["added", "updated", "unchanged", "failed_count", "skipped", "vanished", "failures", "links"]


class JobFailed(Exception):
    """The job as a whole cannot go on; the message says why, in words for the page."""


class Progress:
    """The job's progress, written as items are read."""

    def __init__(self, job: ImportJob):
        self.job = job
        self._saved_at = 0.0

    def save(self, fields=PROGRESS_FIELDS, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._saved_at >= SAVE_EVERY_S:
            self.job.save(update_fields=list(dict.fromkeys([*fields, *PROGRESS_FIELDS])))
            self._saved_at = now

    def expect(self, count: int) -> None:
        self.job.total += count
        self.save(force=True)

    def over(self, items: Iterable, label: Callable[[object], str] = str) -> Iterator:
        """`items`, one by one, each shown as the current item while the ingest reads it and counted after."""
        items = list(items)
        self.expect(len(items))
        for item in items:
            self.job.current_item = label(item)[:1000]
            self.save()
            yield item
            self.job.done += 1
        self.save(force=True)

    def record(self, report: IngestReport) -> None:
        """Add one ingest report's outcome to the job's counts, failures and tracks."""
        job = self.job
        job.added += len(report.added)
        job.updated += len(report.updated)
        job.unchanged += report.unchanged
        job.failed_count += len(report.failed)
        job.skipped += len(report.skipped)
        job.vanished += len(report.vanished)
        room = MAX_FAILURES_KEPT - len(job.failures)
        job.failures = job.failures + [{"item": item, "reason": reason} for item, reason in report.failed[:room]]
        room = MAX_FAILURES_KEPT - len(job.links)
        job.links = job.links + [{"item": link, "reason": why} for link, why in report.links[:room]]
        job.tracks.add(*report.new_or_changed)
        self.save(COUNT_FIELDS, force=True)

    def fail_item(self, item: str, reason: str) -> None:
        report = IngestReport()
        report.failed.append((item, reason))
        self.record(report)


def _song_label(result: dict) -> str:
    return " – ".join(part for part in (result.get("artistName"), result.get("trackName")) if part) or str(
        result.get("trackId", "a song")
    )


def run_folder(job: ImportJob, progress: Progress) -> None:
    """A scan of folders, or another try at some files of one (and folders that were not there)."""
    roots = music_dirs()
    if job.params.get("files"):
        _run_folder_files(job.params["files"], roots, progress)
    for folder in job.params.get("folders", []):
        if not inside_music_dirs(folder, roots):
            # MUSIC_DIRS changed after the job was queued: never read what the site may no longer scan.
            progress.fail_item(folder, outside_message(roots) if roots else "MUSIC_DIRS is empty now.")
        elif not os.path.isdir(folder):
            progress.fail_item(folder, "The folder is not there (was it renamed, or is its disk not mounted?).")
        else:
            progress.record(ingest_folder(Path(folder), progress=progress.over))


def _run_folder_files(files: list[str], roots, progress: Progress) -> None:
    """Another try at single files of a scan (those that failed before)."""
    report = IngestReport()
    for name in progress.over(files):
        if not inside_music_dirs(name, roots):
            report.failed.append((name, outside_message(roots) if roots else "MUSIC_DIRS is empty now."))
        elif not os.path.isfile(name):
            report.failed.append((name, "The file is no longer there."))
        else:
            try:
                # Read again even where the file is unchanged: that is what "retry" asks for.
                track, outcome = save_audio_track(
                    Path(name), source=Track.Source.FOLDER, source_key=name, copy_into_storage=False, reread=True
                )
            except OSError as error:
                report.failed.append((name, f"The file could not be read: {error.strerror or error}."))
            else:
                report.count(track, outcome, name)
    progress.record(report)


def run_itunes(job: ImportJob, progress: Progress) -> None:
    params = job.params
    chosen = [str(track_id) for track_id in params["ids"]]
    client = ITunesClient(settings.ITUNES_BASE_URL, requests_per_minute=settings.ITUNES_REQUESTS_PER_MINUTE)
    missing: list[str] = []

    def only_the_chosen(results: Iterable[dict]) -> Iterator[dict]:
        # The search runs again in the task, so that what the server downloads comes from Apple's answer and
        # never from a URL a browser posted; of its results, only the songs staff chose are imported.
        by_id = {str(result.get("trackId")): result for result in results}
        missing.extend(track_id for track_id in chosen if track_id not in by_id)
        return progress.over([by_id[track_id] for track_id in chosen if track_id in by_id], label=_song_label)

    try:
        report = ingest_itunes(
            client, params["term"], country=params["country"], limit=params["limit"], progress=only_the_chosen
        )
    except ITunesError as error:
        raise JobFailed(f"The iTunes search failed: {error}") from error
    for track_id in missing:
        report.failed.append(
            (f"iTunes song {track_id}", "The iTunes search no longer finds this song; search again to import it.")
        )
    progress.record(report)


def run_upload(job: ImportJob, progress: Progress) -> None:
    try:
        report = IngestReport()
        for entry in progress.over(job.params.get("files", []), label=lambda entry: entry["name"]):
            try:
                with open(uploads.path_of(job.pk, entry["stored"]), "rb") as handle:
                    track, outcome = ingest_upload(File(handle, name=entry["name"]))
            except OSError as error:
                reason = f"The uploaded file could not be read: {error.strerror or error}."
                report.failed.append((entry["name"], reason))
            else:
                report.count(track, outcome, entry["name"])
        progress.record(report)
    finally:
        uploads.discard(job.pk)


RUNNERS = {ImportJob.Kind.FOLDER: run_folder, ImportJob.Kind.ITUNES: run_itunes, ImportJob.Kind.UPLOAD: run_upload}


def _start(job: ImportJob) -> None:
    job.status = ImportJob.Status.RUNNING
    job.started = timezone.now()
    job.finished = None
    job.total = job.done = job.added = job.updated = job.unchanged = job.failed_count = 0
    job.skipped = job.vanished = 0
    job.current_item, job.failures, job.links, job.error = "", [], [], ""
    job.save()
    job.tracks.clear()


def _queue_embedding(job: ImportJob, redelivered: bool) -> None:
    ids = set(job.tracks.values_list("pk", flat=True))
    if redelivered:
        # The run before this one died after adding tracks it never queued; they are pending and, to this
        # run, unchanged. Queueing one twice costs a repeated embedding, never a wrong one.
        stranded = Track.objects.filter(status=Track.Status.PENDING, embeddings__isnull=True)
        ids |= set(stranded.values_list("pk", flat=True))
    if not ids:
        return
    try:
        enqueue_embedding(sorted(ids))
    except Exception as error:  # the queue is down: the tracks are in, say how to embed them
        log.exception("Import job %s: could not queue %d track(s) for embedding", job.pk, len(ids))
        Progress(job).fail_item(
            EMBEDDING_ITEM, f"The new tracks could not be queued for embedding ({error}); run `manage.py embed`."
        )


def run_job(job_id: int) -> dict:
    """Run import job `job_id` to its end; returns a summary for the task's result."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or not job.active:
        return {"job": job_id, "status": job.status if job else "deleted"}
    redelivered = job.status == ImportJob.Status.RUNNING
    _start(job)
    progress = Progress(job)
    try:
        RUNNERS[job.kind](job, progress)
    except Exception as error:
        log.exception("Import job %s failed", job.pk)
        job.status = ImportJob.Status.FAILED
        job.error = str(error) if isinstance(error, JobFailed) else f"The job stopped: {error}"
    else:
        job.status = ImportJob.Status.DONE
    job.current_item = ""
    job.finished = timezone.now()
    job.save()
    # After the job is saved as done: with a synchronous queue (tests) the embedding runs inside this call.
    _queue_embedding(job, redelivered)
    return {"job": job.pk, "status": job.status, "added": job.added, "updated": job.updated, "failed": job.failed_count}


def give_up_stalled(now=None) -> int:
    """Mark jobs whose worker stopped long ago (no progress for longer than any task may run) as failed."""
    return ImportJob.objects.stalled(now).update(
        status=ImportJob.Status.FAILED,
        finished=timezone.now(),
        error="The job stopped without finishing (its worker was stopped or ran out of time); start it again.",
    )
