from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "discovery.jobs"
    label = "jobs"
    verbose_name = "Job queue"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from discovery.jobs import signals  # noqa: F401  (a worker notes which job it runs)
