from django.conf import settings
from django.core.checks import Error, register

SIGNUP_MODES = ("invite", "open", "closed")


@register()
def signup_mode_is_known(app_configs, **kwargs):
    """A mistyped WAVELENGTH_SIGNUP stops the site at start-up rather than quietly meaning something else."""
    mode = settings.WAVELENGTH_SIGNUP
    if mode in SIGNUP_MODES:
        return []
    return [
        Error(
            f"WAVELENGTH_SIGNUP is {mode!r}; it must be one of: {', '.join(SIGNUP_MODES)}.",
            hint="invite (the default): staff make invite links; open: anyone may sign up; closed: nobody.",
            id="accounts.E001",
        )
    ]
