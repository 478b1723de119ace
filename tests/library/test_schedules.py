"""The scheduled rescan of MUSIC_DIRS: a django-q2 Schedule kept in step with the settings, and its task."""

from datetime import timedelta

import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.utils import timezone
from django_q.models import Schedule

from discovery.library.models import ImportJob
from discovery.library.schedules import RESCAN_SCHEDULE, RESCAN_TASK, ensure_rescan_schedule
from discovery.library.tasks import rescan_music_dirs
from tests.audio_samples import write_clip
from tracks.models import Track

pytestmark = pytest.mark.django_db


def rescan_schedules():
    return list(Schedule.objects.filter(name=RESCAN_SCHEDULE))


def test_the_schedule_exists_with_the_configured_interval(music_root, settings):
    settings.MUSIC_RESCAN_MINUTES = 15
    ensure_rescan_schedule()
    ensure_rescan_schedule()  # idempotent
    [schedule] = rescan_schedules()
    assert (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        RESCAN_TASK, Schedule.MINUTES, 15, -1,
    )


def test_migrate_writes_it(music_root, settings):
    settings.MUSIC_RESCAN_MINUTES = 45
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert [s.minutes for s in rescan_schedules()] == [45]


def test_a_new_interval_replaces_the_old_one(music_root, settings):
    ensure_rescan_schedule()
    first = rescan_schedules()[0]
    assert first.minutes == 60  # the default
    settings.MUSIC_RESCAN_MINUTES = 5
    ensure_rescan_schedule()
    [schedule] = rescan_schedules()
    assert schedule.pk == first.pk and schedule.minutes == 5


@pytest.mark.parametrize("minutes, dirs", [(0, True), (60, False)])
def test_no_schedule_when_turned_off_or_without_music_dirs(music_root, settings, minutes, dirs):
    ensure_rescan_schedule()
    settings.MUSIC_RESCAN_MINUTES = minutes
    settings.MUSIC_DIRS = settings.MUSIC_DIRS if dirs else []
    assert ensure_rescan_schedule() is None and rescan_schedules() == []


def test_each_rescan_is_an_import_job_and_new_files_appear_by_themselves(music_root, spectral_model):
    rescan_music_dirs()
    first = ImportJob.objects.get()
    assert first.scheduled and first.created_by is None and first.status == "done" and first.added == 2
    assert first.describe() == f"Rescan of {music_root.resolve()}"

    write_clip(music_root / "new.wav", seconds=1.5)
    rescan_music_dirs()
    second = ImportJob.objects.latest("pk")
    assert (second.added, second.unchanged) == (1, 2)
    assert Track.objects.get(title="new").status == Track.Status.READY


def test_a_rescan_does_not_start_while_another_runs(music_root):
    running = ImportJob.objects.create(kind="folder", status="running", scheduled=True, params={"folders": ["/x"]})
    assert rescan_music_dirs() == {"skipped": f"rescan job {running.pk} is still running"}
    assert ImportJob.objects.count() == 1 and not Track.objects.exists()


def test_a_rescan_stuck_since_its_worker_died_does_not_block_the_next(music_root, spectral_model):
    stuck = ImportJob.objects.create(kind="folder", status="running", scheduled=True, params={"folders": ["/x"]})
    ImportJob.objects.filter(pk=stuck.pk).update(heartbeat=timezone.now() - timedelta(days=1))
    rescan_music_dirs()
    stuck.refresh_from_db()
    assert stuck.status == "failed" and ImportJob.objects.latest("pk").status == "done"


def test_without_music_dirs_a_rescan_does_nothing(settings):
    settings.MUSIC_DIRS = []
    assert rescan_music_dirs() == {"skipped": "MUSIC_DIRS is empty"} and not ImportJob.objects.exists()
