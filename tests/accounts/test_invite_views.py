"""The staff page for invites: make, list with copyable links, revoke; nobody else can open it."""

import pytest
from django.test import override_settings
from django.urls import reverse

from discovery.accounts.models import Invite
from discovery.accounts.services import create_account, make_invite
from tests.conftest import PASSWORD


@pytest.mark.django_db
class TestWhoCanOpenIt:
    @pytest.mark.parametrize("method", ["get", "post"])
    def test_a_listener_gets_a_404(self, owner_client, method):
        assert getattr(owner_client, method)(reverse("invite_list")).status_code == 404

    def test_a_listener_cannot_revoke_an_invite(self, owner_client, staff):
        invite = make_invite(staff)
        assert owner_client.post(reverse("invite_revoke", args=[invite.pk])).status_code == 404
        invite.refresh_from_db()
        assert invite.revoked_at is None

    def test_an_anonymous_visitor_is_sent_to_log_in(self, client):
        assert client.get(reverse("invite_list"))["Location"].startswith(reverse("login"))

    def test_the_navigation_shows_invites_to_staff_only(self, client, owner, staff):
        client.force_login(owner)
        assert reverse("invite_list") not in client.get(reverse("station_list")).content.decode()
        client.force_login(staff)
        assert reverse("invite_list") in client.get(reverse("station_list")).content.decode()


@pytest.mark.django_db
class TestMakingAndRevoking:
    def test_making_an_invite_lists_it_with_its_full_link(self, staff_client, staff):
        response = staff_client.post(reverse("invite_list"), {"note": "for Bob", "expires_in_days": "7"})
        invite = Invite.objects.get()
        assert response.status_code == 302 and response["Location"].endswith(f"#invite-{invite.pk}")
        assert invite.created_by == staff and invite.note == "for Bob" and invite.expires_at is not None
        page = staff_client.get(reverse("invite_list")).content.decode()
        assert f'value="http://testserver/accounts/signup/?invite={invite.token}"' in page
        assert "for Bob" in page and "Invite link made" in page

    def test_an_invite_may_never_expire(self, staff_client):
        staff_client.post(reverse("invite_list"), {"expires_in_days": "0"})
        assert Invite.objects.get().expires_at is None

    def test_a_bad_expiry_is_a_400_that_says_why(self, staff_client):
        response = staff_client.post(reverse("invite_list"), {"expires_in_days": "9999"})
        assert response.status_code == 400 and "Choose when the invite expires" in response.content.decode()
        assert not Invite.objects.exists()

    def test_revoking_takes_the_invite_off_the_list_and_its_link_stops_working(self, staff_client, staff, client):
        invite = make_invite(staff)
        response = staff_client.post(reverse("invite_revoke", args=[invite.pk]))
        assert response.status_code == 302
        assert invite.token not in staff_client.get(reverse("invite_list")).content.decode()
        invite.refresh_from_db()
        assert invite.revoked_at is not None

    def test_revoking_a_used_invite_is_a_400(self, staff_client, staff):
        invite = make_invite(staff)
        create_account("bob", PASSWORD, invite_token=invite.token)
        response = staff_client.post(reverse("invite_revoke", args=[invite.pk]))
        assert response.status_code == 400 and "already been used" in response.content.decode()

    def test_used_invites_are_listed_with_who_joined(self, staff_client, staff):
        invite = make_invite(staff, note="for Bob")
        create_account("bob", PASSWORD, invite_token=invite.token)
        page = staff_client.get(reverse("invite_list")).content.decode()
        assert 'id="used-invites"' in page and "<strong>bob</strong>" in page
        assert invite.token not in page

    def test_revoking_needs_a_post(self, staff_client, staff):
        assert staff_client.get(reverse("invite_revoke", args=[make_invite(staff).pk])).status_code == 405

    @pytest.mark.parametrize(("mode", "says"), [("open", "WAVELENGTH_SIGNUP=open"), ("closed", "invite links do not")])
    def test_the_page_says_when_invites_are_not_how_people_join(self, staff_client, mode, says):
        with override_settings(WAVELENGTH_SIGNUP=mode):
            assert says in staff_client.get(reverse("invite_list")).content.decode()
