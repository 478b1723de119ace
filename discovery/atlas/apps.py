from django.apps import AppConfig


class AtlasConfig(AppConfig):
    name = "discovery.atlas"
    label = "atlas"
    verbose_name = "Map"

    def ready(self):
        from discovery.atlas import signals  # noqa: F401  (connects the map refresh after embedding)
