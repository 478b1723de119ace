from django.conf import settings
from django.db import models


class Trial(models.Model):
    """Two models' lists for one listener's seeds, shown side by side without names, and what they said.

    Which model is on which side is kept here only, never in the page, so the listener cannot tell.
    """

    class Verdict(models.TextChoices):
        LEFT = "left", "The left list fits better"
        RIGHT = "right", "The right list fits better"
        SAME = "same", "About the same"

    listener = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trials")
    left = models.ForeignKey("embedding.EmbeddingModel", on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey("embedding.EmbeddingModel", on_delete=models.CASCADE, related_name="+")
    seeds = models.JSONField(default=list)
    verdict = models.CharField(max_length=8, choices=Verdict.choices, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    decided = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [models.CheckConstraint(condition=~models.Q(left=models.F("right")), name="trial_two_models")]

    def __str__(self):
        return f"trial {self.pk} ({self.verdict or 'undecided'})"

    @property
    def winner(self):
        """The model the listener preferred, None for "same" or no verdict yet."""
        return {self.Verdict.LEFT: self.left, self.Verdict.RIGHT: self.right}.get(self.verdict)
