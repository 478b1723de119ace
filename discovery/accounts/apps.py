from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "discovery.accounts"
    label = "accounts"
    verbose_name = "Accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from discovery.accounts import checks  # noqa: F401  (registers the settings check)
