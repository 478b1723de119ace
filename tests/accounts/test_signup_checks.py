"""WAVELENGTH_SIGNUP and the mail settings come from the environment; a mistyped mode stops the site."""

from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from discovery.accounts.checks import signup_mode_is_known
from tests.test_settings import PRODUCTION_ENV, settings_values


def test_sign_up_is_by_invite_and_mail_is_off_by_default(tmp_path):
    env = {"DATABASE_URL": PRODUCTION_ENV["DATABASE_URL"], "WAVELENGTH_DATA": str(tmp_path)}
    values = settings_values(env, "WAVELENGTH_SIGNUP", "WAVELENGTH_CONTACT", "EMAIL_HOST")
    assert values == {"WAVELENGTH_SIGNUP": "invite", "WAVELENGTH_CONTACT": "", "EMAIL_HOST": ""}


def test_the_environment_sets_the_mode_the_contact_and_the_mail_server(tmp_path):
    env = {
        "DATABASE_URL": PRODUCTION_ENV["DATABASE_URL"],
        "WAVELENGTH_DATA": str(tmp_path),
        "WAVELENGTH_SIGNUP": " Open ",
        "WAVELENGTH_CONTACT": "Ada (ada@example.org)",
        "EMAIL_HOST": "smtp.example.org",
        "EMAIL_PORT": "587",
        "EMAIL_USE_TLS": "1",
    }
    names = ["WAVELENGTH_SIGNUP", "WAVELENGTH_CONTACT", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_USE_TLS"]
    assert settings_values(env, *names) == {
        "WAVELENGTH_SIGNUP": "open",
        "WAVELENGTH_CONTACT": "Ada (ada@example.org)",
        "EMAIL_HOST": "smtp.example.org",
        "EMAIL_PORT": 587,
        "EMAIL_USE_TLS": True,
    }


@override_settings(WAVELENGTH_SIGNUP="invites")
def test_a_mistyped_mode_is_an_error_that_lists_the_modes():
    errors = signup_mode_is_known(None)
    assert [error.id for error in errors] == ["accounts.E001"]
    assert "'invites'" in errors[0].msg and "invite, open, closed" in errors[0].msg
    try:
        call_command("check")
    except SystemCheckError as error:
        assert "accounts.E001" in str(error)
    else:
        raise AssertionError("check passed with WAVELENGTH_SIGNUP=invites")


def test_the_known_modes_pass():
    for mode in ("invite", "open", "closed"):
        with override_settings(WAVELENGTH_SIGNUP=mode):
            assert signup_mode_is_known(None) == []
