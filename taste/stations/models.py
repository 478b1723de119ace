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
