from dataclasses import dataclass

from django_q.brokers import get_broker

from embedding.services import TASK_GROUP_PREFIX
from tracks.models import Track, status_counts


@dataclass(frozen=True)
class EmbeddingProgress:
    ready: int
    pending: int
    failed: int
    queued_batches: int
    # Batches taken by a worker that has since died; the queue offers them again as soon as a worker runs.
    stranded_batches: int = 0

    @property
    def total(self) -> int:
        return self.ready + self.pending + self.failed

    @property
    def done(self) -> int:
        return self.ready + self.failed

    @property
    def busy(self) -> bool:
        return self.pending > 0 or self.queued_batches > 0 or self.stranded_batches > 0


def embedding_progress() -> EmbeddingProgress:
    broker = get_broker()
    # Only the database queue keeps leases (discovery/jobs/broker.py); Redis forgets a dead worker's batch.
    stranded = broker.stranded_size(TASK_GROUP_PREFIX) if hasattr(broker, "stranded_size") else 0
    return EmbeddingProgress(
        **status_counts(Track.objects.all()), queued_batches=broker.queue_size() or 0, stranded_batches=stranded
    )
