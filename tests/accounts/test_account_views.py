"""The staff Accounts page and the one-time password reset links it makes, used end to end."""

import re

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD

NEW_PASSWORD = "a-brand-new-tune-77"


def reset_link(client, user):
    response = client.post(reverse("account_reset_link", args=[user.pk]))
    assert response.status_code == 200, response.content.decode()
    return re.search(r'id="reset-link" value="([^"]+)"', response.content.decode()).group(1)


@pytest.mark.django_db
class TestAccountsPage:
    def test_staff_see_every_account(self, staff_client, owner, outsider):
        page = staff_client.get(reverse("account_list")).content.decode()
        assert "<strong>owner</strong>" in page and "<strong>outsider</strong>" in page
        assert "administrator</span>" in page

    @pytest.mark.parametrize("url_name", ["account_list", "account_reset_link"])
    def test_a_listener_gets_a_404(self, owner_client, owner, url_name):
        args = [owner.pk] if url_name == "account_reset_link" else []
        assert owner_client.post(reverse(url_name, args=args)).status_code == 404
        assert owner_client.get(reverse(url_name, args=args)).status_code == 404

    def test_a_reset_link_needs_a_post(self, staff_client, owner):
        assert staff_client.get(reverse("account_reset_link", args=[owner.pk])).status_code == 405

    def test_staff_who_are_not_superusers_cannot_take_over_a_staff_account(self, client, staff, django_user_model):
        helper = django_user_model.objects.create_user("helper", password=PASSWORD, is_staff=True)
        client.force_login(helper)
        response = client.post(reverse("account_reset_link", args=[staff.pk]))
        assert response.status_code == 400 and "Only a superuser" in response.content.decode()


@pytest.mark.django_db
class TestAResetLinkEndToEnd:
    def test_the_listener_sets_a_new_password_with_it_and_logs_in(self, staff_client, owner, client):
        link = reset_link(staff_client, owner)
        assert link.startswith("http://testserver/accounts/reset/")

        page = client.get(link, follow=True)  # Django swaps the token for a session and redirects
        assert page.status_code == 200 and "Choose a new password" in page.content.decode()
        response = client.post(
            page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
        )
        assert response.status_code == 302 and response["Location"] == reverse("password_reset_complete")
        assert "Your password is changed" in client.get(response["Location"]).content.decode()

        login = client.post(reverse("login"), {"username": "owner", "password": NEW_PASSWORD})
        assert login.status_code == 302 and login["Location"] == reverse("home")

    def test_the_link_works_only_once(self, staff_client, owner, client):
        link = reset_link(staff_client, owner)
        page = client.get(link, follow=True)
        client.post(page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        again = client.get(link, follow=True).content.decode()
        assert "This link no longer works" in again
