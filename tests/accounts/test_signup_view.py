"""The sign-up page: the first account is told it administers the site; afterwards the page follows
WAVELENGTH_SIGNUP and says how to get in when it cannot let you."""

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.urls import reverse

from discovery.accounts.models import Invite
from discovery.accounts.services import make_invite
from tests.accounts.helpers import post_signup
from tests.conftest import PASSWORD

User = get_user_model()


def signup_page(client, invite=""):
    return client.get(reverse("signup"), {"invite": invite} if invite else {})


@pytest.mark.django_db
class TestTheFirstAccount:
    def test_an_empty_site_says_the_first_account_becomes_the_administrator(self, client):
        page = signup_page(client).content.decode()
        assert 'id="first-account"' in page and "<strong>administrator</strong>" in page

    def test_the_first_account_is_the_administrator_and_is_told_so(self, client):
        response = post_signup(client, "ada")
        assert response.status_code == 302 and response["Location"] == reverse("home")
        ada = User.objects.get(username="ada")
        assert ada.is_staff and ada.is_superuser
        home = client.get(reverse("home")).content.decode()
        assert "You are this site's administrator: <a" in home
        assert reverse("admin:tracks_track_upload") in home and reverse("invite_list") in home

    @override_settings(WAVELENGTH_SIGNUP="open")
    def test_the_second_account_is_a_listener_and_is_not_told_anything_of_the_kind(self, client, owner):
        response = post_signup(client, "bob")
        assert response.status_code == 302
        bob = User.objects.get(username="bob")
        assert not bob.is_staff and not bob.is_superuser
        assert "administrator:" not in client.get(reverse("home")).content.decode()

    def test_a_signed_in_visitor_is_sent_home(self, owner_client):
        assert signup_page(owner_client)["Location"] == reverse("home")


@pytest.mark.django_db
class TestInviteMode:
    def test_without_an_invite_the_page_says_how_to_get_one_and_has_no_form(self, client, owner):
        page = signup_page(client).content.decode()
        assert "Sign-up is by invitation" in page
        assert "ask an administrator of this site for an invite link" in page and "password1" not in page

    @override_settings(WAVELENGTH_CONTACT="Ada (ada@example.org)")
    def test_the_page_names_the_contact_when_there_is_one(self, client, owner):
        assert "ask Ada (ada@example.org) for an invite link" in signup_page(client).content.decode()

    def test_posting_without_an_invite_is_refused(self, client, owner):
        response = post_signup(client, "bob")
        assert response.status_code == 400 and "by invitation" in response.content.decode()
        assert not User.objects.filter(username="bob").exists()

    def test_an_invite_link_opens_the_form_and_makes_the_account(self, client, staff):
        invite = make_invite(staff)
        page = signup_page(client, invite.token).content.decode()
        assert "curator invited you" in page and f'value="{invite.token}"' in page
        response = post_signup(client, "bob", invite=invite.token)
        assert response.status_code == 302 and response["Location"] == reverse("home")
        assert Invite.objects.get().used_by.username == "bob"
        assert not User.objects.get(username="bob").is_staff

    def test_a_used_invite_link_says_so(self, client, staff):
        invite = make_invite(staff)
        post_signup(client, "bob", invite=invite.token)
        client.logout()
        page = signup_page(client, invite.token).content.decode()
        assert "This invite link has already been used" in page and "password1" not in page
        response = post_signup(client, "carol", invite=invite.token)
        assert response.status_code == 400 and "already been used" in response.content.decode()

    def test_a_malformed_token_is_just_not_an_invite(self, client, owner):
        page = signup_page(client, "x" * 500).content.decode()
        assert "not one this site made" in page


@pytest.mark.django_db
class TestOtherModes:
    @override_settings(WAVELENGTH_SIGNUP="open")
    def test_open_mode_shows_the_form_to_anyone(self, client, owner):
        assert 'name="password1"' in signup_page(client).content.decode()

    @override_settings(WAVELENGTH_SIGNUP="closed")
    def test_closed_mode_says_sign_ups_are_closed_and_whom_to_ask(self, client, owner):
        page = signup_page(client).content.decode()
        assert "Sign-ups are closed on this site. Ask an administrator of this site to make you an account." in page
        assert post_signup(client, "bob").status_code == 400
        assert not User.objects.filter(username="bob").exists()


@pytest.mark.django_db
class TestEmailField:
    def test_without_mail_the_form_asks_for_no_email(self, client):
        assert 'name="email"' not in signup_page(client).content.decode()

    @override_settings(EMAIL_HOST="mail.example.org")
    def test_with_mail_an_optional_email_is_asked_for_and_kept(self, client):
        assert "Email (optional)" in signup_page(client).content.decode()
        client.post(
            reverse("signup"),
            {"username": "ada", "email": "ada@example.org", "password1": PASSWORD, "password2": PASSWORD},
        )
        assert User.objects.get(username="ada").email == "ada@example.org"
