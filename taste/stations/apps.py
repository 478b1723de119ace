from django.apps import AppConfig


class StationsConfig(AppConfig):
    name = "taste.stations"
    # The label of wave 1, when stations were the whole `taste` app: their tables (taste_station, ...) and
    # migration history carry over as they are.
    label = "taste"
    verbose_name = "Stations"
    default_auto_field = "django.db.models.BigAutoField"
