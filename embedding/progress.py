from dataclasses import dataclass

from django_q.brokers import get_broker

from tracks.models import Track, status_counts


@dataclass(frozen=True)
class EmbeddingProgress:
    ready: int
    pending: int
    failed: int
    queued_batches: int

    @property
    def total(self) -> int:
        return self.ready + self.pending + self.failed

    @property
    def done(self) -> int:
        return self.ready + self.failed

    @property
    def busy(self) -> bool:
        return self.pending > 0 or self.queued_batches > 0


def embedding_progress() -> EmbeddingProgress:
    return EmbeddingProgress(**status_counts(Track.objects.all()), queued_batches=get_broker().queue_size() or 0)
