"""Choosing the site's default model: only once every visible track has its vectors, so that search, seeds
and stations never lose tracks across the switch. No torch here: the admin uses it."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Exists, OuterRef

from embedding.models import EmbeddingModel, TrackEmbedding
from tracks.models import Track


class NotReadyToPromote(ValueError):
    """The model cannot become the default yet; the message says why and what to run."""


def tracks_lacking(model: EmbeddingModel):
    embedded = TrackEmbedding.objects.filter(track=OuterRef("pk"), model=model)
    return Track.objects.visible().filter(~Exists(embedded))


def promote_to_default(model: EmbeddingModel) -> list[str]:
    """Make `model` the default, or raise NotReadyToPromote; returns notes worth telling staff."""
    missing = tracks_lacking(model).count()
    if missing:
        raise NotReadyToPromote(
            f"The {model.name} model cannot be the default yet: {missing} visible track(s) have no {model.name} "
            "vector, and stations and search would lose them. Embed them first (python manage.py embed --model "
            f"{model.name}), then choose it again."
        )
    model.is_default = True
    model.save()
    notes = []
    if model.name not in settings.DEDUP_MIN_COSINE:
        notes.append(
            f"Re-releases are not yet found by sound with {model.name}: measure its threshold with "
            f"bench/bench_dedup.py --model {model.name} and add it to DEDUP_MIN_COSINE (title, artist and "
            "content-hash matches still work)."
        )
    return notes
