from django.apps import AppConfig


class EmbeddingConfig(AppConfig):
    name = "embedding"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from embedding import signals  # noqa: F401  (keeps each model's vector index in step with its row)
