"""Which recommender chooses what a station plays next: the two-tower's query (discovery/engine/two_tower.py)
where its evaluation beat the centroid throughline on held-out sets, the centroid everywhere else.

`manage.py train_recommender` (discovery/atlas/recommender.py) writes one file per embedding model with the
weights, the figures and the verdict; this module only reads it (NumPy, no torch).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings

from discovery.engine.two_tower import TwoTowerWeights, query_vector

TWO_TOWER = "two-tower"
CENTROID = "centroid"


def recommender_path(model_name: str) -> Path:
    folder = Path(getattr(settings, "RECOMMENDER_DIR", settings.DATA_DIR / "recommenders"))
    return folder / f"{model_name}.json"


@dataclass(frozen=True)
class Constellation:
    """A trained recommender as its file says: figures, the verdict, and the weights when it won."""

    model_name: str
    uses_two_tower: bool
    reason: str  # in words: why the station uses it, or why not
    weights: TwoTowerWeights | None
    figures: dict


_cache: dict[str, tuple[float, Constellation | None]] = {}
_lock = threading.Lock()


def constellation(model_name: str) -> Constellation | None:
    """The recommender trained for `model_name`, or None when none was; re-read when its file changes."""
    path = recommender_path(model_name)
    try:
        stamp = path.stat().st_mtime
    except FileNotFoundError:
        return None
    with _lock:
        cached = _cache.get(model_name)
    if cached and cached[0] == stamp:
        return cached[1]
    data = json.loads(path.read_text())
    wins = bool(data.get("beats_centroid"))
    found = Constellation(
        model_name=model_name,
        uses_two_tower=wins,
        reason=data.get("verdict", ""),
        weights=TwoTowerWeights.from_json(data["weights"]) if wins and data.get("weights") else None,
        figures=data.get("figures", {}),
    )
    with _lock:
        _cache[model_name] = (stamp, found)
    return found


def next_track_query(model_name: str, anchor_vectors: np.ndarray, throughline: np.ndarray) -> tuple[np.ndarray, str]:
    """(query vector, which recommender) for a station's candidates: the two-tower's pooling of the anchors
    where it won its evaluation, else the throughline it was given."""
    found = constellation(model_name)
    if found is None or not found.uses_two_tower or found.weights is None:
        return throughline, CENTROID
    if anchor_vectors.shape[1] != found.weights.dim:
        return throughline, CENTROID
    return query_vector(found.weights, anchor_vectors), TWO_TOWER
