import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.urls import reverse

from tests.conftest import PASSWORD


@pytest.mark.django_db
class TestLoginRequired:
    @pytest.mark.parametrize("url_name", ["home", "station_list"])
    def test_pages_send_anonymous_visitors_to_log_in(self, client, url_name):
        url = reverse(url_name)
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={url}"

    def test_track_audio_needs_a_signed_in_user(self, client):
        response = client.get(reverse("track_audio", args=[1]))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))

    @pytest.mark.parametrize("url_name", ["login", "signup"])
    def test_log_in_and_sign_up_are_open(self, client, url_name):
        assert client.get(reverse(url_name)).status_code == 200


@pytest.mark.django_db
class TestSignupLoginLogout:
    def test_signing_up_creates_the_account_and_signs_in(self, client):
        response = client.post(
            reverse("signup"), {"username": "ada", "password1": PASSWORD, "password2": PASSWORD}
        )
        assert response.status_code == 302 and response["Location"] == reverse("home")
        assert get_user_model().objects.filter(username="ada").exists()
        home = client.get(reverse("home"))
        assert home.status_code == 200 and home.context["user"].username == "ada"

    def test_a_bad_sign_up_is_a_400_that_says_why(self, client):
        response = client.post(reverse("signup"), {"username": "ada", "password1": PASSWORD, "password2": "other"})
        assert response.status_code == 400
        assert "The two password fields didn’t match." in response.content.decode()
        assert not get_user_model().objects.filter(username="ada").exists()

    @override_settings(WAVELENGTH_SIGNUP="open")  # a second account: sign-up has to be open to anyone
    def test_a_taken_username_is_refused(self, client, owner):
        response = client.post(
            reverse("signup"), {"username": owner.username, "password1": PASSWORD, "password2": PASSWORD}
        )
        assert response.status_code == 400
        assert "A user with that username already exists." in response.content.decode()

    def test_logging_in_and_out(self, client, owner):
        response = client.post(reverse("login"), {"username": owner.username, "password": PASSWORD})
        assert response.status_code == 302 and response["Location"] == reverse("home")
        assert client.get(reverse("home")).status_code == 200

        response = client.post(reverse("logout"))
        assert response.status_code == 302 and response["Location"] == reverse("login")
        assert client.get(reverse("home")).status_code == 302

    def test_a_wrong_password_does_not_log_in(self, client, owner):
        response = client.post(reverse("login"), {"username": owner.username, "password": "wrong"})
        assert response.status_code == 200
        assert "enter a correct username and password" in response.content.decode()
        assert client.get(reverse("home")).status_code == 302


@pytest.mark.django_db
class TestHomePage:
    def test_an_empty_catalogue_tells_staff_how_to_add_music(self, staff_client):
        page = staff_client.get(reverse("home")).content.decode()
        assert 'id="corpus-empty"' in page and "manage.py ingest_folder" in page
        assert "as this site's administrator" in page and reverse("admin:tracks_track_upload") in page

    def test_an_empty_catalogue_tells_listeners_to_ask_an_administrator(self, owner_client):
        page = owner_client.get(reverse("home")).content.decode()
        assert "No music has been added yet. Ask an administrator of this site to add some" in page
        assert "ingest_folder" not in page and "person who runs this site" not in page

    def test_the_page_sends_the_csrf_token_with_every_htmx_request(self, owner_client):
        response = owner_client.get(reverse("home"))
        # static/js/pages.js reads it from the body on every HTMX request (fresh after a boosted log-in).
        assert f'id="csrf-token" data-token="{response.context["csrf_token"]}"' in response.content.decode()

    def test_navigation_shows_admin_to_staff_only(self, client, owner, staff):
        client.force_login(owner)
        assert reverse("admin:index") not in client.get(reverse("home")).content.decode()
        client.force_login(staff)
        assert reverse("admin:index") in client.get(reverse("home")).content.decode()


@pytest.mark.django_db
class TestLoginPageOffersSignUpOnlyWhenPossible:
    def sign_up_links(self, client):
        page = client.get(reverse("login")).content.decode()
        return page.count(f'href="{reverse("signup")}"'), page

    def test_an_empty_site_invites_the_first_visitor_to_become_the_administrator(self, client):
        links, page = self.sign_up_links(client)
        assert links == 2 and "the first one becomes this site's administrator" in page

    @override_settings(WAVELENGTH_SIGNUP="open")
    def test_open_sign_up_is_linked(self, client, owner):
        links, page = self.sign_up_links(client)
        assert links == 2 and "Create an account" in page

    def test_by_invitation_there_is_no_link_and_the_page_says_whom_to_ask(self, client, owner):
        links, page = self.sign_up_links(client)
        assert links == 0 and "Accounts are by invitation: ask an administrator of this site" in page

    @override_settings(WAVELENGTH_SIGNUP="closed")
    def test_closed_sign_up_is_not_linked(self, client, owner):
        links, page = self.sign_up_links(client)
        assert links == 0 and "Sign-ups are closed" in page
