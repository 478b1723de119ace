"""Signed, expiring links to a track's audio, for playlists that other players open without a session.

A link names one track and the account it was issued to, and is signed with Django's `TimestampSigner` (the
site's SECRET_KEY, a salt of its own so no other signed value of the site can pass for one). The signed value
is "<track id>.<user id>", but the URL carries only "<user id>.<timestamp>.<signature>": the track id comes from
the URL's own path, so a link for one track used on another fails its signature. It lasts
`settings.PLAYLIST_LINK_LIFETIME` (a timedelta, or seconds) from the moment it was made.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "tracks.audio_links.stream"
SEP = "."  # URL-safe, and never part of a signature or timestamp


class AudioLinkRefused(Exception):
    """A link that is not (or no longer) good for this track; the message says what to do."""


def lifetime() -> timedelta:
    value = settings.PLAYLIST_LINK_LIFETIME
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


def lifetime_in_words() -> str:
    """How long a link lasts, as a listener reads it: "7 days", "1 day", "12 hours"."""
    seconds = lifetime().total_seconds()
    days, hours = seconds / 86400, seconds / 3600
    if days >= 1:
        count, unit = round(days), "day"
    elif hours >= 1:
        count, unit = round(hours), "hour"
    else:
        count, unit = max(1, round(seconds / 60)), "minute"
    return f"{count} {unit}{'' if count == 1 else 's'}"


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT, sep=SEP)


def audio_link_token(track_id: int, user_id: int) -> str:
    """The token for `track_id`'s audio link, issued to `user_id` now."""
    signed = _signer().sign(f"{track_id}{SEP}{user_id}")
    return signed.removeprefix(f"{track_id}{SEP}")


def audio_link_path(track_id: int, user_id: int) -> str:
    """The path (no scheme or host) of a fresh signed link to `track_id`'s audio."""
    return reverse("track_stream", args=[track_id, audio_link_token(track_id, user_id)])


def user_id_for_link(track_id: int, token: str) -> int:
    """The id of the account the link was issued to; raises AudioLinkRefused for an altered or expired link."""
    try:
        value = _signer().unsign(f"{track_id}{SEP}{token}", max_age=lifetime())
    except signing.SignatureExpired:
        raise AudioLinkRefused(
            f"This link has expired: playlist links last {lifetime_in_words()}. "
            "Export the playlist again from the station's page for fresh links."
        ) from None
    except signing.BadSignature:
        raise AudioLinkRefused(
            "This link is not valid for this track: it was changed or cut short. "
            "Export the playlist again from the station's page."
        ) from None
    return int(value.split(SEP)[1])
