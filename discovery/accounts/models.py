import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def new_token() -> str:
    return secrets.token_urlsafe(24)


class InviteQuerySet(models.QuerySet):
    def usable(self, now=None):
        """Invites that can still make an account: not used, not revoked, not past their expiry."""
        now = now or timezone.now()
        return self.filter(used_at__isnull=True, revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )


class Invite(models.Model):
    """A single-use sign-up link that a staff member made. The token is kept in clear so that the invites page
    can show the link again until it is used; it is worth exactly one account."""

    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    note = models.CharField(max_length=100, blank=True, help_text="Who it is for, so that staff recognise it.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="invites_made"
    )
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # used_at, not used_by, says the invite is spent: deleting the account it made does not free it again.
    used_by = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="invite"
    )
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InviteQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"Invite {self.note or self.token[:8]}"

    def refusal(self, now=None) -> str:
        """Why this invite cannot make an account, as a sentence; empty while it can."""
        now = now or timezone.now()
        if self.used_at is not None:
            return "This invite link has already been used: each link makes one account."
        if self.revoked_at is not None:
            return "This invite link was withdrawn."
        if self.expires_at is not None and self.expires_at <= now:
            return f"This invite link expired on {timezone.localtime(self.expires_at):%d %B %Y at %H:%M}."
        return ""
