from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse


class Slider(models.Model):
    """A word a listener invented ("dreamy"), learnt from ratings over one embedding model's vectors."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sliders")
    name = models.CharField(max_length=100)
    low_label = models.CharField(max_length=100, help_text="What a 1 means, e.g. “not dreamy at all”.")
    high_label = models.CharField(max_length=100, help_text="What a 5 means, e.g. “completely dreamy”.")
    description = models.TextField(blank=True)
    public = models.BooleanField(default=False, help_text="Everyone can see, rate and use a public slider.")
    embedding_model = models.ForeignKey(
        "embedding.EmbeddingModel", on_delete=models.PROTECT, related_name="sliders",
        help_text="The vectors the slider learns on; ratings of tracks without one are kept but unused.",
    )
    # The latest fit, refreshed on every rating, so that pages and rankings never refit on a read.
    fit = models.JSONField(default=dict, blank=True, editable=False)
    lit = models.BooleanField(default=False, editable=False)
    # Bumped by every rating's refit: the gate keeps a verdict only if this is still what it read (services.evaluate).
    ratings_version = models.PositiveBigIntegerField(default=0, editable=False)
    # When a gate run was queued that has not yet written its verdict; null when none is pending. Ratings that
    # find one pending queue nothing more, so a burst of ratings costs one gate run (services.refit).
    gate_queued = models.DateTimeField(null=True, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="slider_unique_name_per_owner"),
            models.CheckConstraint(condition=~Q(name=""), name="slider_name_not_empty"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("slider_detail", args=[self.pk])


class SliderRating(models.Model):
    """How much a track is what a slider's word says, on 1 (low label) to 5 (high label)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="slider_ratings")
    slider = models.ForeignKey(Slider, on_delete=models.CASCADE, related_name="ratings")
    track = models.ForeignKey("tracks.Track", on_delete=models.CASCADE, related_name="slider_ratings")
    value = models.PositiveSmallIntegerField()
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated"]
        constraints = [
            models.UniqueConstraint(fields=["user", "slider", "track"], name="slider_rating_unique"),
            models.CheckConstraint(condition=Q(value__gte=1) & Q(value__lte=5), name="slider_rating_1_to_5"),
        ]

    def __str__(self):
        return f"{self.track} is {self.value}/5 {self.slider}"
