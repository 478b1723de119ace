from dataclasses import dataclass

from embedding.models import EmbeddingModel
from tracks.models import Track, status_counts


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
    counts = status_counts(Track.objects.visible())
    return CorpusSummary(tracks=sum(counts.values()), **counts, default_model=EmbeddingModel.default())
