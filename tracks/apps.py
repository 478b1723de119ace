from django.apps import AppConfig


class TracksConfig(AppConfig):
    name = "tracks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from tracks import artwork  # noqa: F401  (its receiver deletes a deleted track's thumbnails)
