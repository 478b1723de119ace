"""Blind A/B of two music models by ear: which two, each one's list for the seeds, and the tallies."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from django.db.models import Count
from django.utils import timezone

from discovery.compare.models import Trial
from discovery.lib.forms import ListenerError
from embedding.models import EmbeddingModel
from embedding.vector_index import nearest_neighbours, track_vectors
from tracks.models import Track

LIST_LENGTH = 10


def comparable_models() -> list[EmbeddingModel]:
    """Models with vectors, the default first."""
    models = EmbeddingModel.objects.annotate(vectors=Count("embeddings")).filter(vectors__gt=0)
    return sorted(models, key=lambda m: (not m.is_default, m.name))


def similar_tracks(model: EmbeddingModel, seed_ids: list[int], limit: int = LIST_LENGTH) -> list[Track]:
    """The `limit` canonical tracks nearest the mean of the seeds' vectors under `model`, the seeds left out."""
    vectors = [vector for vector, _ in track_vectors(model, seed_ids).values()]
    if not vectors:
        return []
    query = np.mean(vectors, axis=0)
    query /= np.linalg.norm(query) or 1.0
    ids = [pk for pk, _ in nearest_neighbours(model, query, limit=limit * 3 + len(seed_ids)) if pk not in seed_ids]
    tracks = Track.objects.canonical().in_bulk(ids)
    return [tracks[pk] for pk in ids if pk in tracks][:limit]


def start_trial(listener, seed_ids: list[int], rng: random.Random | None = None) -> tuple[Trial, list, list]:
    """A new trial for `listener`: the default model against another, on a random side each; (trial, left, right)."""
    rng = rng or random.SystemRandom()
    models = [m for m in comparable_models() if set(seed_ids) <= set(track_vectors(m, seed_ids))]
    if len(models) < 2:
        raise ListenerError(
            "A comparison needs two models that have heard all of these seeds; pick other seeds, or ask staff to "
            "embed the library with a second model."
        )
    pair = [models[0], rng.choice(models[1:])]
    rng.shuffle(pair)
    left, right = pair
    trial = Trial.objects.create(listener=listener, left=left, right=right, seeds=seed_ids)
    return trial, similar_tracks(left, seed_ids), similar_tracks(right, seed_ids)


def record_verdict(trial: Trial, verdict: str) -> Trial:
    if trial.verdict:
        raise ListenerError("You already judged this pair of lists; start another comparison.")
    trial.verdict, trial.decided = verdict, timezone.now()
    trial.save(update_fields=["verdict", "decided"])
    return trial


def wilson_interval(wins: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion; (0, 1) when there is nothing to go on."""
    if trials == 0:
        return 0.0, 1.0
    p = wins / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class Tally:
    first: str  # the pair's models in name order, so A-vs-B and B-vs-A count together
    second: str
    listener: str = ""  # empty: every listener
    first_wins: int = 0
    second_wins: int = 0
    same: int = 0

    @property
    def decisive(self) -> int:
        return self.first_wins + self.second_wins

    @property
    def first_share(self) -> float | None:
        return self.first_wins / self.decisive if self.decisive else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.first_wins, self.decisive)


def tallies(by_listener: bool = False) -> list[Tally]:
    """Decided trials counted per model pair (and per listener if asked), pairs in name order."""
    counts: dict[tuple, Tally] = {}
    trials = Trial.objects.exclude(verdict="").select_related("left", "right", "listener")
    for trial in trials:
        first, second = sorted([trial.left.name, trial.right.name])
        listener = trial.listener.get_username() if by_listener else ""
        tally = counts.setdefault((first, second, listener), Tally(first, second, listener))
        winner = trial.winner
        if winner is None:
            tally.same += 1
        elif winner.name == first:
            tally.first_wins += 1
        else:
            tally.second_wins += 1
    grouped = defaultdict(list)
    for key in sorted(counts):
        grouped[key[:2]].append(counts[key])
    return [tally for key in sorted(grouped) for tally in grouped[key]]
