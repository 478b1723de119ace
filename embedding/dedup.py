"""Re-releases found by sound: once a track has its vector, near-identical neighbours of a close duration are
linked to one canonical track (the rules and the grouping are in tracks/dedup.py)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from django.conf import settings

from embedding.models import TrackEmbedding
from embedding.vector_index import nearest_neighbours
from tracks.dedup import durations_close, link_group, same_title_and_artist
from tracks.models import Track


def link_near_duplicates(track_ids: Iterable[int], model) -> int:
    """Link each of `track_ids` to the same recordings among all tracks embedded by `model`.

    Returns how many of the tracks were found to have a duplicate.
    """
    min_cosine = settings.DEDUP_MIN_COSINE.get(model.name)
    linked = 0
    embeddings = TrackEmbedding.objects.filter(model=model, track_id__in=list(track_ids)).select_related("track")
    for embedding in embeddings:
        track = embedding.track
        same = same_title_and_artist(track)
        if min_cosine is not None:
            neighbours = nearest_neighbours(model, np.asarray(embedding.vector), limit=10)
            close_ids = [pk for pk, distance in neighbours if pk != track.pk and 1.0 - distance >= min_cosine]
            close = Track.objects.filter(pk__any=close_ids)
            same += [c for c in close if durations_close(c.duration_s, track.duration_s)]
        if same:
            link_group([track, *same])
            linked += 1
    return linked
