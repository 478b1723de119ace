from django.db import models


class MapLayout(models.Model):
    """One model's 2-D map of the catalogue: how it was fitted, and how new tracks are placed on it."""

    class Method(models.TextChoices):
        PCA = "pca", "PCA"
        UMAP = "umap", "UMAP"

    model = models.OneToOneField("embedding.EmbeddingModel", on_delete=models.CASCADE, related_name="map_layout")
    method = models.CharField(max_length=8, choices=Method.choices)
    # PCA's mean and plane, or the path of the pickled UMAP under $WAVELENGTH_DATA/maps (too big for a row).
    fit = models.JSONField(default=dict, blank=True)
    # How the fitted layout was turned onto the previous one (discovery/atlas/projection.py, Alignment).
    alignment = models.JSONField(default=dict, blank=True)
    fitted_points = models.PositiveIntegerField(default=0, help_text="Tracks the projection was fitted on.")
    built = models.DateTimeField(help_text="When the map was last built or extended.")
    build_seconds = models.FloatField(default=0.0)

    def __str__(self):
        return f"map of {self.model.name} ({self.method})"


class MapPoint(models.Model):
    """Where one track sits on a model's map. Placed once; only a full rebuild moves it (aligned)."""

    layout = models.ForeignKey(MapLayout, on_delete=models.CASCADE, related_name="points")
    track = models.ForeignKey("tracks.Track", on_delete=models.CASCADE, related_name="map_points")
    x = models.FloatField()
    y = models.FloatField()
    fitted = models.BooleanField(default=True, help_text="False: placed later by the fitted projection's transform.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["layout", "track"], name="map_point_unique_per_layout")]
