from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LibraryConfig(AppConfig):
    name = "discovery.library"
    label = "library"
    verbose_name = "Adding music"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from discovery.library.schedules import schedule_after_migrate

        # After every migrate (each start of the site runs one), so that a changed MUSIC_RESCAN_MINUTES or
        # MUSIC_DIRS takes effect without anyone touching the schedule by hand.
        post_migrate.connect(schedule_after_migrate, sender=self, dispatch_uid="library.rescan_schedule")
