from django.apps import AppConfig


class SlidersConfig(AppConfig):
    name = "taste.sliders"
    label = "sliders"
    verbose_name = "Sliders"
    default_auto_field = "django.db.models.BigAutoField"
