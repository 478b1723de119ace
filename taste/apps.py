from django.apps import AppConfig


class TasteConfig(AppConfig):
    name = "taste"
    default_auto_field = "django.db.models.BigAutoField"
