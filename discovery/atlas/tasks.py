"""django-q2 tasks of the map. They take model names, never instances, and are idempotent."""

from __future__ import annotations

from discovery.atlas.builder import refresh_map as _refresh_map
from discovery.atlas.recommender import train_recommender as _train_recommender


def refresh_map(model_name: str) -> dict:
    return _refresh_map(model_name)


def train_recommender(model_name: str) -> dict:
    return _train_recommender(model_name)
