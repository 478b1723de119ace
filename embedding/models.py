from django.db import models, transaction
from django.db.models import Q
from pgvector.django import VectorField

# pgvector's HNSW index accepts at most 2,000 dimensions for the `vector` type.
MAX_INDEXED_DIM = 2000


class EmbeddingModel(models.Model):
    """A music model whose vectors are stored; several coexist, exactly one is the default."""

    name = models.SlugField(max_length=64, unique=True)
    dim = models.PositiveIntegerField("dimension")
    settings = models.JSONField(default=dict, blank=True, help_text="How vectors were made: layer, pooling, rates.")
    weights_sha256 = models.CharField(
        "weights checksum", max_length=64, blank=True, help_text="SHA-256 of the weights the vectors came from."
    )
    is_default = models.BooleanField("default", default=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            # At most one default here; "at least one" is a deferred trigger (migration 0002).
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="embedding_model_single_default"
            ),
            models.CheckConstraint(
                condition=Q(dim__gte=1) & Q(dim__lte=MAX_INDEXED_DIM), name="embedding_model_dim_indexable"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.dim}-d)"

    @property
    def index_name(self) -> str:
        return f"embedding_hnsw_model_{self.pk}"

    def save(self, *args, **kwargs):
        # The first model registered becomes the default, and choosing a new default retires the old one,
        # so "exactly one default" holds after every save.
        with transaction.atomic():
            others = EmbeddingModel.objects.exclude(pk=self.pk)
            if not self.is_default and not others.filter(is_default=True).exists():
                self.is_default = True
            if self.is_default:
                others.filter(is_default=True).update(is_default=False)
            super().save(*args, **kwargs)

    @classmethod
    def default(cls) -> "EmbeddingModel | None":
        return cls.objects.filter(is_default=True).first()


class TrackEmbedding(models.Model):
    """One track's unit-length vector from one model, plus the model's tag scores where it has them."""

    track = models.ForeignKey("tracks.Track", on_delete=models.CASCADE, related_name="embeddings")
    model = models.ForeignKey(EmbeddingModel, on_delete=models.CASCADE, related_name="embeddings")
    # No fixed dimension: each model has its own. A trigger checks the length against the model's `dim` and
    # that the vector has unit length; a partial HNSW index per model casts to that dimension.
    vector = VectorField()
    tags = models.JSONField(default=dict, blank=True, help_text="Tag name → probability, for models that tag.")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["track", "model"], name="track_embedding_unique_per_model"),
        ]

    def __str__(self):
        return f"{self.track} · {self.model.name}"

    def top_tags(self, n: int = 5) -> list[tuple[str, float]]:
        return sorted(self.tags.items(), key=lambda item: item[1], reverse=True)[:n]


class TrainingRun(models.Model):
    """One training of a model of our own (`train_embedder`), queued by staff or run from the command line."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        FEATURES = "features", "Reading the library"
        TRAINING = "training", "Training"
        FINISHED = "finished", "Finished"
        STOPPED = "stopped", "Stopped at its time budget"
        FAILED = "failed", "Failed"

    name = models.SlugField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    epochs = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: the model config's default.")
    max_minutes = models.FloatField(null=True, blank=True)
    done = models.PositiveIntegerField(default=0, help_text="Tracks read, then epochs trained.")
    total = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    summary = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"{self.name} · {self.get_status_display()}"

    @property
    def busy(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.FEATURES, self.Status.TRAINING)
