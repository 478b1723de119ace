from dataclasses import dataclass

from django.db.models import Count, Q

from embedding.models import EmbeddingModel
from tracks.models import Track


@dataclass(frozen=True)
class CorpusSummary:
    tracks: int
    ready: int
    pending: int
    failed: int
    default_model: EmbeddingModel | None

    @property
    def is_empty(self) -> bool:
        return self.tracks == 0


def corpus_summary() -> CorpusSummary:
    """Counts of the visible corpus by state, in one query."""
    counts = Track.objects.filter(hidden=False).aggregate(
        tracks=Count("id"),
        ready=Count("id", filter=Q(status=Track.Status.READY)),
        pending=Count("id", filter=Q(status=Track.Status.PENDING)),
        failed=Count("id", filter=Q(status=Track.Status.FAILED)),
    )
    return CorpusSummary(**counts, default_model=EmbeddingModel.default())
