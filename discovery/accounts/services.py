"""Who may create an account, creating it, invites and password reset links.

Creating an account takes a table lock on the users, so two sign-ups never decide at the same time: of two
first sign-ups on an empty site exactly one becomes the administrator, and an invite makes exactly one account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from discovery.accounts.checks import SIGNUP_MODES
from discovery.accounts.models import Invite
from discovery.lib.forms import ListenerError

UNKNOWN_INVITE = "This invite link is not one this site made; check that you copied all of it."


def signup_mode() -> str:
    """WAVELENGTH_SIGNUP; a value the start-up check would refuse counts as closed, never as open."""
    mode = settings.WAVELENGTH_SIGNUP
    return mode if mode in SIGNUP_MODES else "closed"


def contact() -> str:
    """Whom a visitor should ask for an account or a new password, in words."""
    return settings.WAVELENGTH_CONTACT or "an administrator of this site"


def mail_configured() -> bool:
    return bool(settings.EMAIL_HOST)


def site_has_accounts() -> bool:
    return get_user_model().objects.exists()


@dataclass(frozen=True)
class SignupState:
    """What the sign-up page can offer right now.

    kind is "first" (no accounts yet: this one administers the site), "open", "invited" (a usable invite),
    "needs_invite" (invite mode without a usable one) or "closed".
    """

    kind: str
    invite: Invite | None = None
    refusal: str = ""

    @property
    def allowed(self) -> bool:
        return self.kind in {"first", "open", "invited"}

    @property
    def sentence(self) -> str:
        """Why sign-up is refused and what to do instead; empty while it is allowed."""
        if self.kind == "closed":
            return f"Sign-ups are closed on this site. Ask {contact()} to make you an account."
        if self.kind == "needs_invite":
            if self.refusal:
                return f"{self.refusal} Ask {contact()} for a new one."
            return f"Accounts here are by invitation: ask {contact()} for an invite link, then open it to sign up."
        return ""


def signup_state(invite_token: str = "", *, for_update: bool = False) -> SignupState:
    if not site_has_accounts():
        return SignupState("first")
    mode = signup_mode()
    if mode == "open":
        return SignupState("open")
    if mode == "closed":
        return SignupState("closed")
    if not invite_token:
        return SignupState("needs_invite")
    invites = Invite.objects.select_related("created_by")
    invite = (invites.select_for_update(of=("self",)) if for_update else invites).filter(token=invite_token).first()
    if invite is None:
        return SignupState("needs_invite", refusal=UNKNOWN_INVITE)
    if refusal := invite.refusal():
        return SignupState("needs_invite", refusal=refusal)
    return SignupState("invited", invite=invite)


def signup_possible() -> bool:
    """Whether someone without an invite can sign up now: the links to the sign-up page show only then."""
    return signup_state().allowed


@dataclass(frozen=True)
class NewAccount:
    user: object
    is_administrator: bool


def _lock_accounts() -> None:
    # SHARE ROW EXCLUSIVE conflicts with itself and with inserts, not with reads: sign-ups queue behind one
    # another for the few milliseconds each takes, while pages keep reading users.
    table = connection.ops.quote_name(get_user_model()._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")


def create_account(username: str, password: str, *, email: str = "", invite_token: str = "") -> NewAccount:
    """Make the account the sign-up page asked for, or raise ListenerError saying why not.

    The first account on a site without any becomes its administrator (staff and superuser); after that
    WAVELENGTH_SIGNUP decides, and an invite is spent by the account it makes.
    """
    users = get_user_model().objects
    with transaction.atomic():
        _lock_accounts()
        # Decided again under the lock: what the page showed may have changed since.
        state = signup_state(invite_token, for_update=True)
        if not state.allowed:
            raise ListenerError(state.sentence)
        if users.filter(username__iexact=username).exists():
            raise ListenerError("A user with that username already exists.")
        first = state.kind == "first"
        user = users.create_user(username, email=email, password=password, is_staff=first, is_superuser=first)
        if state.invite is not None:
            state.invite.used_by = user
            state.invite.used_at = timezone.now()
            state.invite.save(update_fields=["used_by", "used_at"])
    return NewAccount(user=user, is_administrator=first)


def make_invite(creator, *, note: str = "", expires_in_days: int | None = None) -> Invite:
    expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    return Invite.objects.create(created_by=creator, note=note, expires_at=expires_at)


def revoke_invite(invite_id: int) -> Invite:
    """Withdraw an invite that has not been used; ListenerError for one that has (or already was)."""
    with transaction.atomic():
        invite = Invite.objects.select_for_update().filter(pk=invite_id).first()
        if invite is None:
            raise ListenerError("There is no such invite.")
        if invite.used_at is not None:
            raise ListenerError("This invite has already been used; there is nothing to withdraw.")
        if invite.revoked_at is None:
            invite.revoked_at = timezone.now()
            invite.save(update_fields=["revoked_at"])
    return invite


def password_reset_path(actor, user) -> str:
    """A one-time link (path) that lets `user` choose a new password, made by staff member `actor`.

    Django's token generator: the link stops working once the password changes or the user logs in, and after
    PASSWORD_RESET_TIMEOUT. A staff member who is not a superuser cannot take over a staff account this way.
    """
    if user.is_staff and not actor.is_superuser and user.pk != actor.pk:
        raise ListenerError("Only a superuser can make a password reset link for a staff account.")
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": default_token_generator.make_token(user)})
