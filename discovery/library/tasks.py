"""django-q2 tasks of the library app. They take primary keys, never model instances."""

from __future__ import annotations

from discovery.library.folders import music_dirs
from discovery.library.models import ImportJob
from discovery.library.runner import give_up_stalled, run_job


def run_import_job(job_id: int) -> dict:
    return run_job(job_id)


def rescan_music_dirs() -> dict:
    """The scheduled rescan: every folder of MUSIC_DIRS, as one import job run right here in the worker."""
    roots = music_dirs()
    if not roots:
        return {"skipped": "MUSIC_DIRS is empty"}
    give_up_stalled()
    # A library that takes longer to read than the interval must not pile up rescans behind each other.
    running = ImportJob.objects.active().filter(kind=ImportJob.Kind.FOLDER, scheduled=True).first()
    if running is not None:
        return {"skipped": f"rescan job {running.pk} is still {running.status}"}
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.FOLDER, scheduled=True, params={"folders": [str(root) for root in roots]}
    )
    return run_job(job.pk)
