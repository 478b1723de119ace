from django.conf import settings
from django.db import models
from django.db.models import Q


def _unit_interval(field: str, name: str) -> models.CheckConstraint:
    # Written as two comparisons on purpose: PostgreSQL sorts NaN above every number, so `>= 0` alone
    # would let NaN through, but `<= 1` rejects it.
    return models.CheckConstraint(condition=Q(**{f"{field}__gte": 0}) & Q(**{f"{field}__lte": 1}), name=name)


class Station(models.Model):
    """A listening session: the seed tracks a user picked, the knobs, and (through Thumb) what they said."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stations")
    name = models.CharField(max_length=200)
    seeds = models.ManyToManyField("tracks.Track", through="StationSeed", related_name="+")
    breadth = models.FloatField(
        default=0.5, help_text="Pocket breadth: 0 keeps to the tightest pocket, 1 weighs every liked pocket alike."
    )
    explore = models.FloatField(
        default=0.2, help_text="0 plays the most familiar tracks, 1 trades relevance for novelty."
    )
    # Lit sliders as extra knobs: slider id (as text) -> weight in [-1, 1] ("more dreamy" > 0, "less" < 0).
    slider_weights = models.JSONField(default=dict, blank=True)
    # What the radio is playing on this station now (POST /plays/now/), so that it is not offered again.
    now_playing = models.ForeignKey(
        "tracks.Track", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    now_playing_since = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated", "-id"]
        constraints = [
            _unit_interval("breadth", "station_breadth_in_unit_interval"),
            _unit_interval("explore", "station_explore_in_unit_interval"),
        ]

    def __str__(self):
        return self.name

    def ordered_seeds(self):
        return [link.track for link in self.seed_links.select_related("track")]


class StationSeed(models.Model):
    """A seed track of a station, in the order the user gave them."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="seed_links")
    track = models.ForeignKey("tracks.Track", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()
    added = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["station", "track"], name="station_seed_unique_track"),
            # Deferred so that seeds can be reordered by swapping positions inside one transaction.
            models.UniqueConstraint(
                fields=["station", "position"],
                name="station_seed_unique_position",
                deferrable=models.Deferrable.DEFERRED,
            ),
        ]

    def __str__(self):
        return f"{self.station} #{self.position}: {self.track}"


class Thumb(models.Model):
    """A user's verdict on a track within one station: +1 (more like this) or -1 (never again here)."""

    UP = 1
    DOWN = -1

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="thumbs")
    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="thumbs")
    track = models.ForeignKey("tracks.Track", on_delete=models.CASCADE, related_name="thumbs")
    value = models.SmallIntegerField(choices=[(UP, "Up"), (DOWN, "Down")])
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated"]
        constraints = [
            models.UniqueConstraint(fields=["user", "station", "track"], name="thumb_unique_per_station_track"),
            models.CheckConstraint(condition=Q(value__in=[1, -1]), name="thumb_value_up_or_down"),
        ]

    def __str__(self):
        return f"{'👍' if self.value == self.UP else '👎'} {self.track} in {self.station}"


# One sitting: a longer figure for one play is a player's clock gone wrong.
PLAY_MAX_SECONDS = 24 * 3600


class Play(models.Model):
    """One track played to its end or skipped (POST /plays/), with or without a station.

    What it means for the ranking (taste/stations/listening.py): a skip in the first seconds is a weak negative,
    a track played through a weak positive, until the listener undoes it (`signal_undone`).
    """

    FINISHED = "finished"
    SKIPPED = "skipped"
    MAX_SECONDS = PLAY_MAX_SECONDS

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plays")
    # Null for a play from a search, album or track page; a station deleted later leaves its plays in history.
    station = models.ForeignKey(Station, on_delete=models.SET_NULL, null=True, blank=True, related_name="plays")
    track = models.ForeignKey("tracks.Track", on_delete=models.CASCADE, related_name="plays")
    started = models.DateTimeField()
    recorded = models.DateTimeField(auto_now_add=True)
    seconds = models.FloatField(help_text="How long it played, in seconds.")
    ended = models.CharField(max_length=8, choices=[(FINISHED, "Finished"), (SKIPPED, "Skipped")])
    signal_undone = models.BooleanField(
        default=False, help_text="The listener took back what this play says about their taste."
    )

    class Meta:
        ordering = ["-recorded", "-id"]
        indexes = [
            models.Index(fields=["station", "-recorded"], name="play_station_recent"),
            models.Index(fields=["user", "-recorded"], name="play_user_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(seconds__gte=0) & Q(seconds__lte=PLAY_MAX_SECONDS), name="play_seconds_in_range"
            ),
            models.CheckConstraint(condition=Q(ended__in=["finished", "skipped"]), name="play_ended_known"),
        ]

    def __str__(self):
        return f"{self.track} {self.ended} after {self.seconds:.0f} s"
