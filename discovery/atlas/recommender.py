"""Training and judging the two-tower recommender (the worker's and `manage.py train_recommender`'s; torch).

Training sets: every station's anchor set (seeds and likes, from every listener) and every album (its name
within its folder) or, for untagged files, every folder, as pseudo-sets. Sets are split by a hash of their key
into training and held-out sets; the held-out ones judge the two-tower against the centroid throughline on the
same queries (discovery/engine/two_tower.py, evaluate). The station uses the two-tower only where it wins.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import defaultdict

from django.utils import timezone

from discovery.atlas.builder import mappable_vectors, resolve_model
from discovery.engine.two_tower import TwoTowerWeights, centroid_query, evaluate, item_vectors, query_vector
from taste.stations.constellations import recommender_path
from taste.stations.models import Station, Thumb
from tracks.models import Track

HELD_OUT_SHARE = 0.2
MIN_SET = 3
MAX_SET = 200  # a folder of thousands of files is no album


def _held_out(key: str) -> bool:
    digest = hashlib.sha256(key.encode()).digest()
    return digest[0] / 256 < HELD_OUT_SHARE


def anchor_sets(track_ids: set[int]) -> dict[str, list[int]]:
    """{key: track ids} of stations' anchor sets and albums or folders with at least MIN_SET mapped tracks."""
    sets: dict[str, list[int]] = {}
    for station in Station.objects.prefetch_related("seed_links", "thumbs"):
        members = [link.track_id for link in station.seed_links.all()]
        members += [t.track_id for t in station.thumbs.all() if t.value == Thumb.UP]
        members = [m for m in dict.fromkeys(members) if m in track_ids]
        if len(members) >= MIN_SET:
            sets[f"station:{station.pk}"] = members
    albums: dict[str, list[int]] = defaultdict(list)
    for pk, album, path in Track.objects.canonical().values_list("pk", "album", "audio_path").order_by("pk"):
        if pk in track_ids:
            folder = os.path.dirname(path or "")
            albums[f"album:{album}|{folder}" if album else f"folder:{folder}"].append(pk)
    for key, members in albums.items():
        if MIN_SET <= len(members) <= MAX_SET and key not in ("folder:",):
            sets[key] = members
    return sets


def train_recommender(model_name: str | None = None, device: str = "auto", epochs: int | None = None) -> dict:
    """Train, evaluate against the centroid and write the verdict for stations to read. Returns the figures."""
    import torch  # the worker's only

    from discovery.atlas.two_tower_model import TwoTowerConfig, export, train

    started = time.perf_counter()
    model = resolve_model(model_name)
    ids, vectors = mappable_vectors(model)
    sets = anchor_sets(set(int(i) for i in ids))
    training = {k: v for k, v in sets.items() if not _held_out(k)}
    held = {k: v for k, v in sets.items() if _held_out(k)}
    if not training or not held:
        raise ValueError(
            f"Too few sets to learn from: {len(sets)} albums, folders or stations with at least {MIN_SET} tracks "
            f"({len(training)} to train on, {len(held)} held out); at least one of each is needed."
        )
    row = {int(pk): r for r, pk in enumerate(ids)}
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    config = TwoTowerConfig(dim=model.dim)
    if epochs is not None:
        config.query_epochs, config.item_epochs = epochs, max(1, epochs // 3)
    query, track, report = train(vectors, [[row[m] for m in s] for s in training.values()], config, device=device)
    weights = TwoTowerWeights.from_json(export(query.cpu(), track.cpu()))
    held_sets = list(held.values())
    two = evaluate(held_sets, ids, vectors, lambda a: query_vector(weights, a), lambda v: item_vectors(weights, v))
    centroid = evaluate(held_sets, ids, vectors, centroid_query)
    wins = two.ndcg20 > centroid.ndcg20 and two.r_precision >= centroid.r_precision
    if wins:
        verdict = (
            f"The two-tower chooses what plays next: on {two.queries} held-out sets its NDCG@20 is "
            f"{two.ndcg20:.3f} against the centroid's {centroid.ndcg20:.3f}."
        )
    else:
        verdict = (
            f"The centroid chooses what plays next: on {two.queries} held-out sets the two-tower's NDCG@20 is "
            f"{two.ndcg20:.3f} and R-precision {two.r_precision:.3f}, against the centroid's "
            f"{centroid.ndcg20:.3f} and {centroid.r_precision:.3f}, so it has not earned its place."
        )
    figures = {
        "two_tower": {"r_precision": two.r_precision, "ndcg20": two.ndcg20},
        "centroid": {"r_precision": centroid.r_precision, "ndcg20": centroid.ndcg20},
        "held_out_sets": two.queries,
        "training_sets": len(training),
        "query_epochs": report.query_epochs,
        "item_epochs": report.item_epochs,
        "query_tower_converged": report.converged,
        "device": device,
        "seconds": round(time.perf_counter() - started, 2),
    }
    path = recommender_path(model.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps({
        "model": model.name, "trained": timezone.now().isoformat(), "beats_centroid": wins, "verdict": verdict,
        "figures": figures, "weights": weights.as_json(),
    }))
    partial.replace(path)
    return {"model": model.name, "beats_centroid": wins, "verdict": verdict, **figures}
