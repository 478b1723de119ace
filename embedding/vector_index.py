"""Each embedding model's HNSW index and the one query that uses it.

Vectors of all models share one column of untyped `vector`, so no single index can cover them. Each model gets
a partial expression index, `(vector::vector(dim)) vector_cosine_ops WHERE model_id = id`, created when the
model is registered. The planner only uses it for a query whose ORDER BY repeats that expression and whose
WHERE repeats the predicate, which is why the index and the query are defined side by side here.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
import psycopg
from django.conf import settings
from django.db import connection, transaction

# pgvector's default of 40 candidates per search loses recall on large corpora; see docs/benchmarks.md.
DEFAULT_EF_SEARCH = 100


def _index_expression(dim: int) -> str:
    return f"(vector::vector({int(dim)}))"


def ensure_vector_index(model) -> None:
    """Create the model's HNSW cosine index if it is missing (idempotent)."""
    with transaction.atomic(), connection.cursor() as cursor:
        # The graph is built in memory; past maintenance_work_mem pgvector builds far more slowly on disk.
        cursor.execute(f"SET LOCAL maintenance_work_mem = '{int(settings.VECTOR_INDEX_BUILD_MEMORY_MB)}MB'")
        # Checked first rather than relying on IF NOT EXISTS: PostgreSQL refuses even a no-op CREATE INDEX on
        # a table with pending deferred-constraint events, i.e. after vectors were written in this transaction.
        cursor.execute("SELECT to_regclass(%s)", [model.index_name])
        if cursor.fetchone()[0] is not None:
            return
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {model.index_name} ON embedding_trackembedding "
            f"USING hnsw ({_index_expression(model.dim)} vector_cosine_ops) "
            f"WHERE model_id = {int(model.pk)}"
        )


def drop_vector_index(model) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {model.index_name}")


def _vector_literal(vector: Sequence[float] | np.ndarray, dim: int) -> str:
    array = np.asarray(vector, dtype=np.float32).ravel()
    if array.size != dim:
        raise ValueError(f"The query vector has {array.size} dimensions; this model's vectors have {dim}.")
    if not np.all(np.isfinite(array)):
        raise ValueError("The query vector has NaN or infinite values.")
    return "[" + ",".join(repr(float(x)) for x in array) + "]"


def nearest_neighbours_sql(model) -> str:
    """The nearest-neighbour query for `model`; parameters: query vector, query vector, limit."""
    expression = _index_expression(model.dim)
    return (
        f"SELECT track_id, {expression} <=> %s::vector({int(model.dim)}) AS distance "
        "FROM embedding_trackembedding "
        f"WHERE model_id = {int(model.pk)} "
        f"ORDER BY {expression} <=> %s::vector({int(model.dim)}) "
        "LIMIT %s"
    )


def nearest_neighbours(
    model, query_vector, limit: int = 20, ef_search: int = DEFAULT_EF_SEARCH
) -> list[tuple[int, float]]:
    """Track ids nearest to `query_vector` by cosine distance under `model`, nearest first.

    Approximate (HNSW): `ef_search` candidates are explored per query; it must be at least `limit`.
    """
    query = _vector_literal(query_vector, model.dim)
    sql = nearest_neighbours_sql(model)
    with transaction.atomic(), connection.cursor() as cursor:
        # SET LOCAL lasts until the end of this transaction only, so pooled connections are not affected.
        cursor.execute(f"SET LOCAL hnsw.ef_search = {max(int(ef_search), int(limit))}")
        cursor.execute(sql, [query, query, int(limit)])
        return [(track_id, float(distance)) for track_id, distance in cursor.fetchall()]


def nearest_neighbours_many_sql(model) -> str:
    """The batched form; parameters: an array of query vectors as text, the limit per query."""
    return (
        "SELECT q.i, n.track_id FROM unnest(%s::text[]) WITH ORDINALITY AS q(v, i) "
        "CROSS JOIN LATERAL ("
        "SELECT track_id FROM embedding_trackembedding "
        f"WHERE model_id = {int(model.pk)} "
        f"ORDER BY {_index_expression(model.dim)} <=> q.v::vector({int(model.dim)}) LIMIT %s"
        ") n"
    )


def nearest_neighbours_many(
    model, query_vectors, limit: int = 20, ef_search: int = DEFAULT_EF_SEARCH
) -> list[list[int]]:
    """For each row of `query_vectors`, the ids of its `limit` nearest tracks, nearest first.

    One round trip: each query vector drives its own index scan through a LATERAL join.
    """
    queries = [_vector_literal(vector, model.dim) for vector in np.atleast_2d(query_vectors)]
    if not queries:
        return []
    sql = nearest_neighbours_many_sql(model)
    found: list[list[int]] = [[] for _ in queries]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL hnsw.ef_search = {max(int(ef_search), int(limit))}")
        cursor.execute(sql, [queries, int(limit)])
        for ordinal, track_id in cursor.fetchall():
            found[ordinal - 1].append(track_id)
    return found


class _ExpiringCache:
    """A small per-process cache: entries live `ttl_s` seconds, the oldest go first beyond `max_entries`."""

    def __init__(self, max_entries: int, ttl_s: float):
        self.max_entries, self.ttl_s = max_entries, ttl_s
        self._entries: OrderedDict = OrderedDict()

    def get(self, key):
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[0] > self.ttl_s:
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key, value) -> None:
        self._entries[key] = (time.monotonic(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


# A thumb changes one anchor of a station and the page asks the index about all of them again: the other
# neighbourhoods are the same as a moment ago. Tracks added meanwhile join those lists when entries expire.
NEIGHBOURHOOD_TTL_S = 600
_neighbourhoods = _ExpiringCache(max_entries=20_000, ttl_s=NEIGHBOURHOOD_TTL_S)


def cached_nearest_neighbours_many(model, query_vectors, limit: int, ef_search: int = DEFAULT_EF_SEARCH):
    """nearest_neighbours_many, answering repeated query vectors from a per-process cache."""
    queries = np.atleast_2d(np.asarray(query_vectors, dtype=np.float32))
    keys = [(model.pk, limit, ef_search, query.tobytes()) for query in queries]
    found = [_neighbourhoods.get(key) for key in keys]
    missing = [i for i, ids in enumerate(found) if ids is None]
    if missing:
        for i, ids in zip(missing, nearest_neighbours_many(model, queries[missing], limit, ef_search)):
            found[i] = ids
            _neighbourhoods.put(keys[i], ids)
    return found


# Vectors change only when a track is embedded again; a page needs a thousand of them, and text is slow to
# parse. Tags are cut to the few a why line can quote.
VECTOR_TTL_S = 600
TAGS_KEPT = 8
_vectors = _ExpiringCache(max_entries=50_000, ttl_s=VECTOR_TTL_S)


def _parse_binary_vector(data: bytes) -> np.ndarray:
    # pgvector's binary form: int16 dimension, int16 unused, then big-endian float32s.
    return np.frombuffer(data, dtype=">f4", offset=4).astype(np.float32)


def track_vectors(model, track_ids) -> dict[int, tuple[np.ndarray, dict]]:
    """{track id: (unit vector, its strongest tags)} for the tracks `model` has embedded."""
    result, missing = {}, []
    for track_id in dict.fromkeys(int(pk) for pk in track_ids):
        entry = _vectors.get((model.pk, track_id))
        if entry is None:
            missing.append(track_id)
        else:
            result[track_id] = entry
    if missing:
        # Django's cursors bind on the client, which cannot ask for binary results; this one binds on the server.
        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(
                "SELECT track_id, vector, tags FROM embedding_trackembedding "
                "WHERE model_id = %s AND track_id = ANY(%s)",
                [model.pk, missing],
                binary=True,
            )
            for track_id, data, tags in cursor.fetchall():
                top = dict(sorted((tags or {}).items(), key=lambda item: item[1], reverse=True)[:TAGS_KEPT])
                entry = (_parse_binary_vector(data), top)
                _vectors.put((model.pk, track_id), entry)
                result[track_id] = entry
    return result


def forget_cached_vectors() -> None:
    """Drop this process's cached vectors and neighbourhoods (after re-embedding, in tests)."""
    _vectors.clear()
    _neighbourhoods.clear()
