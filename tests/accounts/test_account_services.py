"""create_account: the first account administers the site, the modes after it, invites spent exactly once,
also when two sign-ups arrive together."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone

from discovery.accounts.models import Invite
from discovery.accounts.services import create_account, make_invite, revoke_invite, signup_possible, signup_state
from discovery.lib.forms import ListenerError
from tests.accounts.helpers import at_the_same_time, slow_user_creation
from tests.conftest import PASSWORD

User = get_user_model()


@pytest.mark.django_db
class TestFirstAccount:
    def test_the_first_account_becomes_the_administrator_and_the_second_does_not(self):
        first = create_account("ada", PASSWORD)
        assert first.is_administrator and first.user.is_staff and first.user.is_superuser
        with override_settings(WAVELENGTH_SIGNUP="open"):
            second = create_account("bob", PASSWORD)
        assert not second.is_administrator and not second.user.is_staff and not second.user.is_superuser

    @pytest.mark.parametrize("mode", ["invite", "open", "closed"])
    def test_the_first_account_can_be_made_in_every_mode(self, mode):
        with override_settings(WAVELENGTH_SIGNUP=mode):
            assert signup_possible()
            assert create_account("ada", PASSWORD).is_administrator

    def test_the_password_is_set_and_the_email_kept(self):
        user = create_account("ada", PASSWORD, email="ada@example.org").user
        assert user.check_password(PASSWORD) and user.email == "ada@example.org"

    def test_a_username_taken_in_another_case_is_refused(self, owner):
        with override_settings(WAVELENGTH_SIGNUP="open"), pytest.raises(ListenerError, match="already exists"):
            create_account("OWNER", PASSWORD)


@pytest.mark.django_db(transaction=True)
class TestSimultaneousFirstSignups:
    def test_two_first_sign_ups_at_once_make_exactly_one_administrator(self, monkeypatch):
        slow_user_creation(monkeypatch)
        with override_settings(WAVELENGTH_SIGNUP="open"):
            outcomes = at_the_same_time(
                lambda: create_account("ada", PASSWORD), lambda: create_account("bob", PASSWORD)
            )
        assert all(not isinstance(outcome, Exception) for outcome in outcomes), outcomes
        assert sorted(outcome.is_administrator for outcome in outcomes) == [False, True]
        assert User.objects.filter(is_superuser=True).count() == 1 and User.objects.count() == 2

    def test_with_invites_the_one_that_loses_the_race_needs_an_invite(self, monkeypatch):
        slow_user_creation(monkeypatch)
        outcomes = at_the_same_time(lambda: create_account("ada", PASSWORD), lambda: create_account("bob", PASSWORD))
        made = [outcome for outcome in outcomes if not isinstance(outcome, Exception)]
        refused = [outcome for outcome in outcomes if isinstance(outcome, ListenerError)]
        assert len(made) == 1 and made[0].is_administrator
        assert len(refused) == 1 and "by invitation" in str(refused[0])
        assert User.objects.count() == 1


@pytest.mark.django_db
class TestModesAfterTheFirstAccount:
    def test_invite_mode_is_the_default_and_refuses_without_an_invite(self, owner):
        assert signup_state().kind == "needs_invite" and not signup_possible()
        with pytest.raises(ListenerError, match="Accounts here are by invitation: ask an administrator"):
            create_account("bob", PASSWORD)

    @override_settings(WAVELENGTH_SIGNUP="open")
    def test_open_mode_lets_anyone_sign_up(self, owner):
        assert signup_possible()
        assert create_account("bob", PASSWORD).user.username == "bob"

    @override_settings(WAVELENGTH_SIGNUP="closed", WAVELENGTH_CONTACT="Ada (ada@example.org)")
    def test_closed_mode_refuses_everyone_and_says_whom_to_ask(self, owner, staff):
        invite = make_invite(staff)
        for token in ("", invite.token):
            with pytest.raises(ListenerError, match=r"Sign-ups are closed on this site\. Ask Ada \(ada@example"):
                create_account("bob", PASSWORD, invite_token=token)
        assert not signup_possible()

    @override_settings(WAVELENGTH_SIGNUP="nonsense")
    def test_an_unknown_mode_counts_as_closed(self, owner):
        assert signup_state().kind == "closed"


@pytest.mark.django_db
class TestInvites:
    def test_an_invite_makes_one_account_and_records_who_used_it(self, staff):
        invite = make_invite(staff, note="for Bob")
        bob = create_account("bob", PASSWORD, invite_token=invite.token).user
        invite.refresh_from_db()
        assert invite.used_by == bob and invite.used_at is not None and not bob.is_staff

    def test_a_second_use_is_refused_with_a_sentence(self, staff):
        invite = make_invite(staff)
        create_account("bob", PASSWORD, invite_token=invite.token)
        with pytest.raises(ListenerError, match="This invite link has already been used: each link makes one"):
            create_account("carol", PASSWORD, invite_token=invite.token)
        assert not User.objects.filter(username="carol").exists()

    def test_a_revoked_invite_is_refused(self, staff):
        invite = revoke_invite(make_invite(staff).pk)
        with pytest.raises(ListenerError, match="This invite link was withdrawn. Ask an administrator"):
            create_account("bob", PASSWORD, invite_token=invite.token)

    def test_an_expired_invite_is_refused(self, staff):
        invite = make_invite(staff, expires_in_days=1)
        Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
        with pytest.raises(ListenerError, match="This invite link expired on"):
            create_account("bob", PASSWORD, invite_token=invite.token)

    def test_an_invite_that_expires_later_still_works(self, staff):
        invite = make_invite(staff, expires_in_days=7)
        assert invite.expires_at > timezone.now() + timedelta(days=6)
        assert create_account("bob", PASSWORD, invite_token=invite.token).user.username == "bob"

    def test_a_made_up_token_is_refused(self, staff):
        with pytest.raises(ListenerError, match="not one this site made"):
            create_account("bob", PASSWORD, invite_token="made-up")

    def test_a_failed_sign_up_leaves_the_invite_unused(self, staff, owner):
        invite = make_invite(staff)
        with pytest.raises(ListenerError, match="already exists"):
            create_account("owner", PASSWORD, invite_token=invite.token)
        invite.refresh_from_db()
        assert invite.used_at is None

    def test_a_used_invite_cannot_be_revoked(self, staff):
        invite = make_invite(staff)
        create_account("bob", PASSWORD, invite_token=invite.token)
        with pytest.raises(ListenerError, match="already been used"):
            revoke_invite(invite.pk)

    def test_invite_tokens_are_long_and_random(self, staff):
        tokens = {make_invite(staff).token for _ in range(20)}
        assert len(tokens) == 20 and min(len(t) for t in tokens) >= 32


@pytest.mark.django_db(transaction=True)
def test_two_sign_ups_with_one_invite_at_once_make_one_account(staff, monkeypatch):
    invite = make_invite(staff)
    slow_user_creation(monkeypatch)
    outcomes = at_the_same_time(
        lambda: create_account("bob", PASSWORD, invite_token=invite.token),
        lambda: create_account("carol", PASSWORD, invite_token=invite.token),
    )
    made = [outcome for outcome in outcomes if not isinstance(outcome, Exception)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, ListenerError)]
    assert len(made) == 1 and len(refused) == 1, outcomes
    assert "already been used" in str(refused[0])
    invite.refresh_from_db()
    assert invite.used_by == made[0].user
    assert User.objects.filter(username__in=["bob", "carol"]).count() == 1
