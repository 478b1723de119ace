"""Building and extending a model's map: the worker's job after embedding, and `manage.py build_map`.

Worker-only: it imports discovery/atlas/projection.py, whose UMAP path pulls in numba. Views read the map
through discovery/atlas/services.py instead.
"""

from __future__ import annotations

import logging
import pickle
import time
from pathlib import Path

import numpy as np
import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from discovery.atlas.models import MapLayout, MapPoint
from discovery.atlas.projection import UMAP_MIN_TRACKS, Alignment, PcaFit, fit_pca, fit_umap, procrustes
from embedding.models import EmbeddingModel
from tracks.models import Track

log = logging.getLogger(__name__)

# When the tracks waiting to be placed outnumber this share of those the projection was fitted on, a fresh
# fit (aligned to the old map) describes the catalogue better than stretching the old one.
REBUILD_SHARE = 0.5
INSERT_BATCH = 5000


def map_dir() -> Path:
    return Path(getattr(settings, "MAP_DIR", settings.DATA_DIR / "maps"))


def resolve_model(model_name: str | None = None) -> EmbeddingModel:
    model = EmbeddingModel.objects.filter(name=model_name).first() if model_name else EmbeddingModel.default()
    if model is None:
        raise ValueError(f"There is no embedding model named {model_name!r}." if model_name else "No model yet.")
    return model


def mappable_vectors(model: EmbeddingModel, exclude_placed: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(track ids, unit vectors) of the canonical tracks `model` has embedded, by id; optionally only those
    its map does not hold yet. Read in binary: text vectors take seconds to parse at 100k tracks."""
    canonical = Track.objects.canonical().values("pk").query
    canonical_sql, canonical_params = canonical.sql_with_params()
    sql = (
        "SELECT e.track_id, e.vector FROM embedding_trackembedding e "
        f"WHERE e.model_id = %s AND e.track_id IN ({canonical_sql})"
    )
    params = [model.pk, *canonical_params]
    if exclude_placed:
        sql += (
            " AND NOT EXISTS (SELECT 1 FROM atlas_mappoint p JOIN atlas_maplayout l ON l.id = p.layout_id "
            "WHERE l.model_id = %s AND p.track_id = e.track_id)"
        )
        params.append(model.pk)
    sql += " ORDER BY e.track_id"
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, binary=True)
        rows = cursor.fetchall()
    ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    if not rows:
        return ids, np.zeros((0, model.dim), dtype=np.float32)
    # pgvector's binary form: int16 dimension, int16 unused, then big-endian float32s.
    blob = b"".join(row[1] for row in rows)
    stride = 4 + 4 * model.dim
    vectors = np.frombuffer(blob, dtype=np.uint8).reshape(len(rows), stride)[:, 4:].copy().view(">f4")
    return ids, vectors.astype(np.float32)


def _umap_path(model: EmbeddingModel) -> Path:
    return map_dir() / f"umap-{model.pk}.pickle"


def _save_umap(model: EmbeddingModel, reducer) -> str:
    path = _umap_path(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("wb") as handle:
        pickle.dump(reducer, handle, protocol=pickle.HIGHEST_PROTOCOL)
    partial.replace(path)  # a worker killed mid-write leaves the previous projection whole
    return str(path)


def _load_umap(layout: MapLayout):
    # Our own file, written by _save_umap under the site's data folder; never one a listener supplies.
    with open(layout.fit["path"], "rb") as handle:
        return pickle.load(handle)  # noqa: S301


def build_map(model_name: str | None = None) -> MapLayout:
    """Fit the model's map afresh on every mappable track and lay it over the previous map (Procrustes on the
    tracks both hold), so a rebuild does not move the map under the listener."""
    started = time.perf_counter()
    model = resolve_model(model_name)
    ids, vectors = mappable_vectors(model)
    if len(ids) == 0:
        raise ValueError(f"No track is embedded by {model.name} yet, so there is nothing to map.")
    if len(ids) >= UMAP_MIN_TRACKS:
        reducer = fit_umap(vectors)
        raw = np.asarray(reducer.embedding_, dtype=np.float64)
        method, fit = MapLayout.Method.UMAP, {"path": _save_umap(model, reducer)}
    else:
        pca = fit_pca(vectors)
        raw = pca.transform(vectors)
        method, fit = MapLayout.Method.PCA, pca.as_json()
    old = {tid: (x, y) for tid, x, y in MapPoint.objects.filter(layout__model=model).values_list("track_id", "x", "y")}
    shared = [i for i, tid in enumerate(ids) if int(tid) in old]
    alignment = Alignment()
    if shared:
        alignment = procrustes(raw[shared], np.array([old[int(ids[i])] for i in shared]))
    xy = alignment.apply(raw)
    with transaction.atomic():
        layout, _ = MapLayout.objects.select_for_update().get_or_create(
            model=model, defaults={"method": method, "built": timezone.now()}
        )
        layout.points.all().delete()
        MapPoint.objects.bulk_create(
            (MapPoint(layout=layout, track_id=int(tid), x=float(x), y=float(y)) for tid, (x, y) in zip(ids, xy)),
            batch_size=INSERT_BATCH,
        )
        layout.method, layout.fit, layout.alignment = method, fit, alignment.as_json()
        layout.fitted_points = len(ids)
        layout.built = timezone.now()
        layout.build_seconds = time.perf_counter() - started
        layout.save()
    log.info("Built the %s map of %s: %d tracks in %.1f s", method, model.name, len(ids), layout.build_seconds)
    return layout


def place_new_tracks(model_name: str | None = None) -> int:
    """Put the tracks the map lacks where the fitted projection sends them, aligned like the rest; every track
    already on the map stays exactly where it is. Returns how many were placed."""
    model = resolve_model(model_name)
    layout = MapLayout.objects.filter(model=model).first()
    if layout is None:
        return 0
    ids, vectors = mappable_vectors(model, exclude_placed=True)
    if len(ids) == 0:
        return 0
    if layout.method == MapLayout.Method.UMAP:
        raw = np.asarray(_load_umap(layout).transform(vectors), dtype=np.float64)
    else:
        raw = PcaFit.from_json(layout.fit).transform(vectors)
    xy = Alignment.from_json(layout.alignment).apply(raw)
    MapPoint.objects.bulk_create(
        (MapPoint(layout=layout, track_id=int(t), x=float(x), y=float(y), fitted=False) for t, (x, y) in zip(ids, xy)),
        batch_size=INSERT_BATCH,
        ignore_conflicts=True,  # placed meanwhile by another run: it keeps its place
    )
    MapLayout.objects.filter(pk=layout.pk).update(built=timezone.now())
    return len(ids)


def refresh_map(model_name: str | None = None) -> dict:
    """After embedding: build the map if there is none, rebuild it (aligned) when PCA has become too small a
    tool or most tracks arrived after the fit, otherwise only place the new tracks. Idempotent."""
    model = resolve_model(model_name)
    layout = MapLayout.objects.filter(model=model).first()
    waiting = len(mappable_vectors(model, exclude_placed=True)[0])
    outgrown_pca = (
        layout is not None
        and layout.method == MapLayout.Method.PCA
        and layout.fitted_points + waiting >= UMAP_MIN_TRACKS
    )
    if layout is None or outgrown_pca or waiting > REBUILD_SHARE * max(layout.fitted_points, 1):
        if layout is None and waiting == 0:
            return {"model": model.name, "action": "nothing to map"}
        layout = build_map(model.name)
        return {"model": model.name, "action": "built", "method": layout.method, "points": layout.fitted_points}
    return {"model": model.name, "action": "placed", "points": place_new_tracks(model.name)}
