"""The scheduled rescan of MUSIC_DIRS: one django-q2 Schedule, kept in step with the settings.

It is (re)written after every migrate, which each start of the site runs (`make run`, the Docker image), so a
changed MUSIC_RESCAN_MINUTES takes effect on the next start. No Schedule while MUSIC_RESCAN_MINUTES is 0 or
MUSIC_DIRS is empty.
"""

from __future__ import annotations

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django_q.models import Schedule

RESCAN_SCHEDULE = "Rescan MUSIC_DIRS"
RESCAN_TASK = "discovery.library.tasks.rescan_music_dirs"
MAX_MINUTES = 32767  # the Schedule's minutes column is a small integer: about 22 days


def ensure_rescan_schedule(using: str = DEFAULT_DB_ALIAS) -> Schedule | None:
    """Create, update or remove the rescan Schedule to match the settings; idempotent."""
    schedules = Schedule.objects.using(using)
    minutes = min(int(settings.MUSIC_RESCAN_MINUTES), MAX_MINUTES)
    if minutes <= 0 or not settings.MUSIC_DIRS:
        schedules.filter(name=RESCAN_SCHEDULE).delete()
        return None
    wanted = {"func": RESCAN_TASK, "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1}
    schedule = schedules.filter(name=RESCAN_SCHEDULE).first()
    if schedule is None:
        # The first run is due at once, so that a new site reads its music as soon as the worker starts.
        return schedules.create(name=RESCAN_SCHEDULE, **wanted)
    if any(getattr(schedule, field) != value for field, value in wanted.items()):
        for field, value in wanted.items():
            setattr(schedule, field, value)
        schedule.save(using=using)
    return schedule


def schedule_after_migrate(sender, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    ensure_rescan_schedule(using)
