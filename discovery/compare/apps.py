from django.apps import AppConfig


class CompareConfig(AppConfig):
    name = "discovery.compare"
    label = "compare"
    verbose_name = "Blind comparisons"
