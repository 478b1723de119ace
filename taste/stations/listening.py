"""Plays: what a listener played, skipped or let run, and what that tells a station.

The player reports each track when it ends (POST /plays/) and each track it starts on a station (POST
/plays/now/). A skip in the first EARLY_SKIP_SECONDS is a weak, fading negative for the station, a track played
to its end a weak positive (the maths and its numbers: discovery/engine/listening.py); either can be undone. The
radio never offers again what a station played within its last RADIO_NO_REPEAT_PLAYS tracks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone
from django.utils.timesince import timesince

from discovery.lib.forms import ListenerError
from taste.stations.models import Play, Station
from tracks.models import Track

# Thirty seconds is the length of an iTunes preview and the mark streaming services count a play from: a skip
# before it is a judgement on the track, a skip after it more often just moving on.
EARLY_SKIP_SECONDS = 30.0
# Plays older than this say nothing to the ranking any more (a finish keeps 0.3 % of its weight after 60 days,
# a skip far less), so the query for signals never reads a station's whole history.
SIGNAL_HORIZON = timedelta(days=60)
# The ranking reads at most this many of each kind, the most recent: each costs a column in a (candidates × plays)
# product on every re-rank (100 + 100 plays against 600 candidates: about 2 ms, where 700 took 15 ms on this
# two-core machine), and a hundred tracks are a day's listening, beyond which plays have mostly faded.
SIGNAL_TRACKS = 100
# How many of each the station's rail lists.
RAIL_PLAYS = 5


@dataclass(frozen=True)
class StationListening:
    """A station's listening signals, one entry per track (its latest play that was not undone):
    (track id, seconds since the play) for early skips and for finishes, most recent first."""

    early_skips: list[tuple[int, float]] = field(default_factory=list)
    finishes: list[tuple[int, float]] = field(default_factory=list)


def visible_track(track_id: int) -> Track:
    track = Track.objects.visible().filter(pk=track_id).first()
    if track is None:
        raise ListenerError(f"There is no track {track_id}.")
    return track


def record_play(user, track_id: int, station: Station | None, seconds: float, ended: str) -> Play:
    """Record that `user` played a track for `seconds` and then it `ended` ("finished" or "skipped").

    `station` must be the user's (the view checks) or None for a play outside any station. A station that was
    showing this track as now playing stops doing so.
    """
    track = visible_track(track_id)
    now = timezone.now()
    play = Play.objects.create(
        user=user, station=station, track=track, seconds=seconds, ended=ended,
        started=now - timedelta(seconds=seconds),
    )
    if station is not None:
        # Only if it is still this track: the next track's /plays/now/ may already have arrived.
        Station.objects.filter(pk=station.pk, now_playing=track).update(now_playing=None, now_playing_since=None)
    return play


def set_now_playing(station: Station, track_id: int) -> None:
    """The station is playing this track from now on."""
    track = visible_track(track_id)
    station.now_playing, station.now_playing_since = track, timezone.now()
    Station.objects.filter(pk=station.pk).update(
        now_playing=track, now_playing_since=station.now_playing_since
    )


def undo_play_signal(play: Play) -> None:
    """Take back what a play says about taste; it stays in the history."""
    if not play.signal_undone:
        play.signal_undone = True
        play.save(update_fields=["signal_undone"])


def recently_played_ids(station: Station, span: int | None = None) -> set[int]:
    """The last `span` distinct tracks played on the station (settings.RADIO_NO_REPEAT_PLAYS by default), and
    the one it is playing now: the radio offers none of them again."""
    span = settings.RADIO_NO_REPEAT_PLAYS if span is None else span
    if span <= 0:
        return set()
    played = (
        Play.objects.filter(station=station)
        .values("track_id")
        .annotate(last=Max("recorded"))
        .order_by("-last")
        .values_list("track_id", flat=True)[:span]
    )
    ids = set(played)
    if station.now_playing_id is not None:
        ids.add(station.now_playing_id)
    return ids


def listening_signals(station: Station) -> StationListening:
    """What the ranking needs from the station's plays: each track's latest play that was not undone, within
    SIGNAL_HORIZON, as an early skip (skipped before EARLY_SKIP_SECONDS) or a finish, the SIGNAL_TRACKS most
    recent of each; later skips say nothing."""
    now = timezone.now()
    latest = (
        Play.objects.filter(station=station, signal_undone=False, recorded__gte=now - SIGNAL_HORIZON)
        .order_by("track_id", "-recorded", "-id")
        .distinct("track_id")
        .values_list("track_id", "recorded", "ended", "seconds")
    )
    signals = StationListening()
    for track_id, recorded, ended, seconds in sorted(latest, key=lambda row: row[1], reverse=True):
        age = max((now - recorded).total_seconds(), 0.0)
        if ended == Play.FINISHED:
            signals.finishes.append((track_id, age))
        elif seconds < EARLY_SKIP_SECONDS:
            signals.early_skips.append((track_id, age))
    del signals.finishes[SIGNAL_TRACKS:], signals.early_skips[SIGNAL_TRACKS:]
    return signals


def is_early_skip(play: Play) -> bool:
    return play.ended == Play.SKIPPED and play.seconds < EARLY_SKIP_SECONDS


def ago(moment, now=None) -> str:
    """"just now" within a minute, else "3 hours ago" (Django's timesince, which says "0 minutes" before)."""
    now = now or timezone.now()
    return "just now" if (now - moment).total_seconds() < 60 else f"{timesince(moment, now)} ago"


def listening_context(station: Station) -> dict:
    """For templates/stations/partials/listening_rail.html: the station's latest early skips and finishes that
    count as `listening_signals` counts them (a track's latest play not undone decides), newest first, each with
    `ago` ("5 minutes ago")."""
    plays = (
        station.plays.filter(signal_undone=False, track__in=Track.objects.visible())
        .select_related("track")
        .order_by("-recorded", "-id")
    )
    skips, finishes, seen = [], [], set()
    now = timezone.now()
    # A few rows per entry shown is plenty: the rail only lists the newest, and repeats of a track are rare.
    for play in plays[: RAIL_PLAYS * 8]:
        if play.track_id in seen:
            continue
        seen.add(play.track_id)
        play.ago = ago(play.recorded, now)
        if play.ended == Play.FINISHED:
            finishes.append(play)
        elif play.seconds < EARLY_SKIP_SECONDS:
            skips.append(play)
    skips, finishes = skips[:RAIL_PLAYS], finishes[:RAIL_PLAYS]
    return {"recent_skips": skips, "recent_finishes": finishes, "early_skip_seconds": int(EARLY_SKIP_SECONDS)}


def plays_of(user):
    """The user's plays of tracks that are still visible, newest first, with their tracks and stations."""
    return (
        Play.objects.filter(user=user, track__in=Track.objects.visible())
        .select_related("track", "station")
        .order_by("-recorded", "-id")
    )
