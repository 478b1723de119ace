"""Each embedding model's HNSW index and the one query that uses it.

Vectors of all models share one column of untyped `vector`, so no single index can cover them. Each model gets
a partial expression index, `(vector::vector(dim)) vector_cosine_ops WHERE model_id = id`, created when the
model is registered. The planner only uses it for a query whose ORDER BY repeats that expression and whose
WHERE repeats the predicate, which is why the index and the query are defined side by side here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from django.db import connection, transaction

# pgvector's default of 40 candidates per search loses recall on large corpora; see docs/benchmarks.md.
DEFAULT_EF_SEARCH = 100


def _index_expression(dim: int) -> str:
    return f"(vector::vector({int(dim)}))"


def ensure_vector_index(model) -> None:
    """Create the model's HNSW cosine index if it is missing (idempotent)."""
    with connection.cursor() as cursor:
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
