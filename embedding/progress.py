from dataclasses import dataclass

from django.db.models import Count, Q

from tracks.models import Track


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
    from django_q.brokers import get_broker

    counts = Track.objects.aggregate(
        ready=Count("id", filter=Q(status=Track.Status.READY)),
        pending=Count("id", filter=Q(status=Track.Status.PENDING)),
        failed=Count("id", filter=Q(status=Track.Status.FAILED)),
    )
    return EmbeddingProgress(**counts, queued_batches=get_broker().queue_size() or 0)
