"""Vector search at catalogue scale: HNSW build, throughline latency, recall@20, and thumb → re-ranked partial.

    WAVELENGTH_DATA=~/wavelength-bench .venv/bin/python bench/bench_search.py [--tracks 16000 1000000]
        [--distribution musicnn-like|isotropic] [--queries 200] [--recall-queries 100] [--thumbs 100] [--skip-load]

For each --tracks N it loads N synthetic tracks, each with a unit vector of the default model's dimension,
into the database the settings point at, so it needs a database of its own: it runs only when
WAVELENGTH_DATA or DATABASE_URL is set, and refuses a database holding tracks it did not make. Per N it prints
JSON lines, then a markdown table of the headline figures (with the growth from the smallest N to the largest):

  geometry     cosines of random pairs and of nearest neighbours, for the real musicnn sample and for as many
               synthetic vectors, and how close the corpus comes to each real vector: shows how alike they are
  load         seconds to COPY the tracks and their vectors in (skipped with --skip-load)
  build        seconds to build the model's HNSW index as ensure_vector_index creates it, with the memory it
               sets (VECTOR_INDEX_BUILD_MEMORY_MB, or --maintenance-work-mem) and the parallel maintenance
               workers given (both are reported)
  throughline  latency of nearest_neighbours(limit=THROUGHLINE_CANDIDATES) at DEFAULT_EF_SEARCH, after a warm-up
  recall       recall@20 of nearest_neighbours(limit=20) against exact search (NumPy, float32) at pgvector's
               default ef_search, at ours, and at the smallest ef_search that reaches --target-recall
  thumb        round trip of POST /stations/<id>/thumbs/ with HX-Request, measured by the client on 127.0.0.1
               against one gunicorn worker, for a station of 10 seeds and 20 likes; recommendations() and its
               two index queries timed in this process, to show where the time goes, and recommendations()
               again with the per-process neighbourhood and vector caches emptied before each call. The thumbs
               toggle 10 tracks in turn, so after the warm-up every neighbourhood a thumb needs is cached: the
               HTTP figure is a warm station's, the emptied-cache one a first visit's

The vectors follow --distribution:

  musicnn-like (default)  the geometry of real musicnn vectors, from the 300 in tests/data/musicnn_sample.npy
               (real music): each synthetic vector is a real one, picked at random, plus Gaussian noise shaped
               like the real vectors' covariance, then L2-normalised. The mixture is scaled so that its mean and
               covariance are the real sample's whatever --spread is, the noise's share of the covariance:
               y = m + (x - m + spread * e) / sqrt(1 + spread^2), with m the real mean, x a real vector and e
               drawn from N(0, real covariance). A single Gaussian with the real mean and covariance (a very
               large --spread) gets the random-pair cosines about right, but its nearest neighbours are further
               apart than the real sample's (median cosine 0.86 against 0.92 among 300 vectors): music clusters
               more. At the default of 0.5 both are close to the real sample's (the geometry phase prints them).
               Three hundred real vectors say nothing about the geometry at distances shorter than their own
               nearest neighbours': at a million tracks each real vector has thousands of blurred copies whose
               neighbourhoods are as high-dimensional as Gaussian noise, so recall at that size is probably
               lower here than on real music.
  isotropic    random unit vectors. In 200 dimensions they are nearly equidistant from one another, which makes
               them about the hardest case there is for HNSW: a worst case for recall, not a forecast.

Queries are, by default, the normalised centroid of 2–3 random corpus vectors plus noise (a random direction of
the distribution's own shape at --noise of the centroid's length), like a station's throughline;
--query-kind random draws fresh vectors from the distribution instead. Latency and build time depend much less
on how the vectors are spread than recall does.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

# NumPy's BLAS would start a thread per core, competing with PostgreSQL on the same cores for the exact search;
# the web server gets the same setting, as in production. Must be set before NumPy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The corpus (its vectors, then its rows in the database) and the thumb round trip live next to this file; what
# stays here is measuring the index and reporting the figures.
from bench.search_corpus import (  # noqa: E402
    benchmark_model,
    clear_corpus,
    load_corpus,
    loaded_track_ids,
    refuse_foreign_tracks,
)
from bench.search_output import emit, percentiles, refuse  # noqa: E402
from bench.search_thumbs import thumb_figures  # noqa: E402
from bench.search_vectors import (  # noqa: E402
    Isotropic,
    MusicnnLike,
    corpus_vectors,
    geometry_figures,
    make_queries,
    real_sample,
)

RECALL_K = 20
PGVECTOR_DEFAULT_EF_SEARCH = 40
MAX_EF_SEARCH = 1000  # pgvector refuses a larger hnsw.ef_search
MEMORY_SETTING = re.compile(r"^(\d+)\s*(kB|MB|GB)$")
MB_PER_UNIT = {"kB": 1 / 1024, "MB": 1, "GB": 1024}


def vector_distribution(name: str, dim: int, spread: float):
    if name == "isotropic":
        return Isotropic(dim)
    real = real_sample()
    if real.shape[1] != dim:
        refuse(f"--distribution musicnn-like copies {real.shape[1]}-d musicnn vectors; use --dim {real.shape[1]}.")
    return MusicnnLike(real, spread)


def exact_top_k(corpus: np.ndarray, queries: np.ndarray, k: int, chunk: int = 131_072) -> np.ndarray:
    """Row indices of each query's k most similar corpus rows, most similar first (unit rows: dot = cosine)."""
    best_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_rows = np.zeros((len(queries), k), dtype=np.int64)
    for first in range(0, len(corpus), chunk):
        block = queries @ corpus[first : first + chunk].T
        block_rows = np.broadcast_to(np.arange(first, first + block.shape[1]), block.shape)
        scores = np.concatenate([best_scores, block], axis=1)
        rows = np.concatenate([best_rows, block_rows], axis=1)
        keep = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        best_scores = np.take_along_axis(scores, keep, axis=1)
        best_rows = np.take_along_axis(rows, keep, axis=1)
    order = np.argsort(-best_scores, axis=1)
    return np.take_along_axis(best_rows, order, axis=1)


def vector_text(vector: np.ndarray) -> str:
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "discovery.settings")
    import django

    django.setup()


def database_facts() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('server_version'), (SELECT extversion FROM pg_extension WHERE extname = 'vector'),"
            " current_setting('shared_buffers'), current_setting('max_worker_processes'),"
            " current_setting('max_parallel_workers')"
        )
        version, pgvector, shared_buffers, worker_processes, parallel_workers = cursor.fetchone()
    return {
        "postgres": version, "pgvector": pgvector, "shared_buffers": shared_buffers,
        "max_worker_processes": worker_processes, "max_parallel_workers": parallel_workers,
        "cpus": os.cpu_count(),
    }


def build_index(model, memory_mb: int | None, workers: int, rebuild: bool) -> dict:
    """Time ensure_vector_index; `memory_mb` replaces the site's VECTOR_INDEX_BUILD_MEMORY_MB, which it sets."""
    from django.conf import settings
    from django.db import connection
    from django.test import override_settings

    from embedding.vector_index import drop_vector_index, ensure_vector_index

    if rebuild:
        drop_vector_index(model)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [model.index_name])
        if cursor.fetchone()[0] is not None:
            return {"build_s": None, "note": "index already built; --rebuild-index times a new build"}
    notices = []
    connection.ensure_connection()
    handler = notices.append
    connection.connection.add_notice_handler(handler)
    memory_mb = memory_mb or settings.VECTOR_INDEX_BUILD_MEMORY_MB
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SET max_parallel_maintenance_workers = {int(workers)}")
        start = time.perf_counter()
        # ensure_vector_index sets maintenance_work_mem itself, inside its transaction, from the setting.
        with override_settings(VECTOR_INDEX_BUILD_MEMORY_MB=memory_mb):
            ensure_vector_index(model)
        elapsed = time.perf_counter() - start
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET max_parallel_maintenance_workers")
        connection.connection.remove_notice_handler(handler)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_size(%s::regclass)", [model.index_name])
        size = cursor.fetchone()[0]
    return {
        "build_s": elapsed,
        "maintenance_work_mem": f"{memory_mb}MB",
        "max_parallel_maintenance_workers": workers,
        "index_mib": size / 2**20,
        # pgvector says so when the graph outgrows maintenance_work_mem and the build slows down many times.
        "notices": [notice.message_primary for notice in notices],
    }


def index_is_used(model, query: np.ndarray, limit: int) -> bool:
    from django.db import connection

    from embedding.vector_index import nearest_neighbours_sql

    literal = vector_text(query)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + nearest_neighbours_sql(model), [literal, literal, limit])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return model.index_name in plan


def exact_sql_agreement(model, queries: np.ndarray, truth_ids: np.ndarray) -> float:
    """Overlap of PostgreSQL's exact top 20 (index scans off) with NumPy's: checks the ground truth itself."""
    from django.db import connection, transaction

    from embedding.vector_index import nearest_neighbours_sql

    overlaps = []
    for query, truth in zip(queries, truth_ids):
        literal = vector_text(query)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute(nearest_neighbours_sql(model), [literal, literal, RECALL_K])
            found = {row[0] for row in cursor.fetchall()}
        overlaps.append(len(found & set(truth.tolist())) / RECALL_K)
    return float(np.mean(overlaps))


def throughline_figures(model, queries: np.ndarray, warmup: int) -> dict:
    """The throughline query exactly as a station page sends it (its limit and its ef_search)."""
    from discovery.engine.candidates import THROUGHLINE_CANDIDATES, THROUGHLINE_EF_SEARCH
    from embedding.vector_index import nearest_neighbours

    def query_once(query):
        nearest_neighbours(model, query, limit=THROUGHLINE_CANDIDATES, ef_search=THROUGHLINE_EF_SEARCH)

    for query in queries[:warmup]:
        query_once(query)
    seconds = []
    for query in queries[warmup:]:
        start = time.perf_counter()
        query_once(query)
        seconds.append(time.perf_counter() - start)
    return {
        "limit": THROUGHLINE_CANDIDATES,
        "ef_search_effective": max(THROUGHLINE_EF_SEARCH, THROUGHLINE_CANDIDATES),
        "warmup": warmup,
        "index_used": index_is_used(model, queries[0], THROUGHLINE_CANDIDATES),
        **percentiles(seconds),
    }


def recall_at(model, queries: np.ndarray, truth_ids: np.ndarray, ef_search: int, limit: int = RECALL_K) -> dict:
    from embedding.vector_index import nearest_neighbours

    hits, seconds = [], []
    for query, truth in zip(queries, truth_ids):
        start = time.perf_counter()
        found = nearest_neighbours(model, query, limit=limit, ef_search=ef_search)
        seconds.append(time.perf_counter() - start)
        hits.append(len({track_id for track_id, _ in found} & set(truth[:limit].tolist())) / limit)
    return {"ef_search": max(ef_search, limit), "limit": limit, f"recall_at_{limit}": float(np.mean(hits)),
            **percentiles(seconds)}


def recall_figures(model, queries: np.ndarray, truth_ids: np.ndarray, target: float) -> dict:
    """Recall@20 at pgvector's default ef_search and ours, and the smallest ef_search (to within 10) reaching target.

    Assumes recall grows with ef_search, which holds up to the noise of a finite query sample.
    """
    from embedding.vector_index import DEFAULT_EF_SEARCH

    measured: dict[int, dict] = {}

    def recall(ef: int) -> float:
        if ef not in measured:
            measured[ef] = recall_at(model, queries, truth_ids, ef)
        return measured[ef][f"recall_at_{RECALL_K}"]

    recall(PGVECTOR_DEFAULT_EF_SEARCH)  # first of all, so that it also warms the cache for the others
    recall(DEFAULT_EF_SEARCH)
    failing, passing = RECALL_K - 1, None
    for ef in sorted({RECALL_K, PGVECTOR_DEFAULT_EF_SEARCH, DEFAULT_EF_SEARCH, 150, 200, 300, 400, 600, 800,
                      MAX_EF_SEARCH}):
        if recall(ef) >= target:
            passing = ef
            break
        failing = ef
    if passing is not None:
        while passing - failing > 10:
            middle = (failing + passing) // 2
            if recall(middle) >= target:
                passing = middle
            else:
                failing = middle
    return {
        "target": target,
        "by_ef_search": [measured[ef] for ef in sorted(measured)],
        "smallest_ef_search_reaching_target": passing,
        "at_smallest": measured.get(passing),
    }


def run_size(args, count: int) -> dict:
    from embedding.vector_index import DEFAULT_EF_SEARCH

    distribution = vector_distribution(args.distribution, args.dim, args.spread)
    facts = {"tracks": count, "dim": args.dim, **distribution.marker(), "query_kind": args.query_kind,
             "seed": args.seed}
    refuse_foreign_tracks()
    if not args.skip_load:
        # Emptied first, so that registering the model cannot build its index on a full table untimed.
        clear_corpus()
    model = benchmark_model(args.model, args.dim)
    start = time.perf_counter()
    vectors = corpus_vectors(count, distribution, args.seed)
    generate_s = time.perf_counter() - start
    emit({**facts, "phase": "geometry", "generate_s": generate_s, **geometry_figures(vectors)})
    if args.skip_load:
        track_ids = loaded_track_ids(model, count, args.seed, vectors, distribution)
        emit({**facts, "phase": "load", "skipped": True})
    else:
        load, track_ids = load_corpus(model, vectors, args.seed, distribution)
        emit({**facts, "phase": "load", **load, "loadavg": os.getloadavg()})
    summary = {"tracks": count, "distribution": distribution.name}

    rebuild = args.rebuild_index or not args.skip_load
    build = build_index(model, args.build_memory_mb, args.parallel_workers, rebuild)
    emit({**facts, "phase": "build", **build, "loadavg": os.getloadavg()})
    summary.update(build_s=build["build_s"], index_mib=build.get("index_mib"))

    rng = np.random.default_rng([args.seed, count, 1])
    latency_queries = make_queries(args.query_kind, args.warmup + args.queries, vectors, rng, args.noise, distribution)
    throughline = throughline_figures(model, latency_queries, args.warmup)
    emit({**facts, "phase": "throughline", **throughline, "loadavg": os.getloadavg()})
    summary.update(throughline_p50_ms=throughline["p50_ms"], throughline_p95_ms=throughline["p95_ms"])

    from discovery.engine.candidates import THROUGHLINE_CANDIDATES, THROUGHLINE_EF_SEARCH

    recall_queries = make_queries(args.query_kind, args.recall_queries, vectors, rng, args.noise, distribution)
    start = time.perf_counter()
    truth_rows = exact_top_k(vectors, recall_queries, THROUGHLINE_CANDIDATES)
    exact_s = time.perf_counter() - start
    truth_ids = track_ids[truth_rows]
    recall = recall_figures(model, recall_queries, truth_ids, args.target_recall)
    candidates = recall_at(model, recall_queries, truth_ids, THROUGHLINE_EF_SEARCH, limit=THROUGHLINE_CANDIDATES)
    # The first 20 of the page's throughline query: recall@20 at the ef_search the site uses for it.
    candidates["recall_at_20_of_its_first_20"] = recall_at(
        model, recall_queries, truth_ids, THROUGHLINE_EF_SEARCH, limit=RECALL_K
    )[f"recall_at_{RECALL_K}"]
    agreement = exact_sql_agreement(model, recall_queries[:10], truth_ids[:10, :RECALL_K])
    emit({**facts, "phase": "recall", **recall, "throughline_candidates": candidates,
          "numpy_exact_s": exact_s, "exact_sql_agrees_with_numpy": agreement, "loadavg": os.getloadavg()})
    by_ef = {row["ef_search"]: row for row in recall["by_ef_search"]}
    summary.update(
        recall_ef40=by_ef[PGVECTOR_DEFAULT_EF_SEARCH][f"recall_at_{RECALL_K}"],
        recall_ef_default=by_ef[DEFAULT_EF_SEARCH][f"recall_at_{RECALL_K}"],
        smallest_ef=recall["smallest_ef_search_reaching_target"],
        smallest_ef_p95_ms=(recall["at_smallest"] or {}).get("p95_ms"),
        candidates_recall_at_200=candidates[f"recall_at_{THROUGHLINE_CANDIDATES}"],
        throughline_recall_at_20=candidates["recall_at_20_of_its_first_20"],
    )

    thumbs = thumb_figures(model, vectors, track_ids, rng, args.thumbs, args.warmup)
    emit({**facts, "phase": "thumb", **thumbs, "loadavg": os.getloadavg()})
    summary.update(
        thumb_p50_ms=thumbs["http"]["p50_ms"], thumb_p95_ms=thumbs["http"]["p95_ms"],
        recommendations_p50_ms=thumbs["in_process"]["recommendations"]["p50_ms"],
        recommendations_p95_ms=thumbs["in_process"]["recommendations"]["p95_ms"],
        uncached_p50_ms=thumbs["in_process"]["recommendations_uncached"]["p50_ms"],
        uncached_p95_ms=thumbs["in_process"]["recommendations_uncached"]["p95_ms"],
        corpus_sample_p50_ms=thumbs["in_process"]["corpus_sample_refresh"]["p50_ms"],
    )
    return summary


def markdown_table(summaries: list[dict]) -> str:
    from embedding.vector_index import DEFAULT_EF_SEARCH

    rows = [
        ("HNSW build (s)", "build_s", True),
        ("index size (MiB)", "index_mib", True),
        ("throughline p50 (ms)", "throughline_p50_ms", True),
        ("throughline p95 (ms)", "throughline_p95_ms", True),
        (f"recall@20, ef_search {PGVECTOR_DEFAULT_EF_SEARCH}", "recall_ef40", False),
        (f"recall@20, ef_search {DEFAULT_EF_SEARCH}", "recall_ef_default", False),
        ("smallest ef_search for target recall", "smallest_ef", False),
        ("  its p95, limit 20 (ms)", "smallest_ef_p95_ms", True),
        ("throughline candidates recall@200", "candidates_recall_at_200", False),
        ("throughline recall@20 (the page's query)", "throughline_recall_at_20", False),
        ("thumb → partial p50 (ms)", "thumb_p50_ms", True),
        ("thumb → partial p95 (ms)", "thumb_p95_ms", True),
        ("recommendations() p50 (ms)", "recommendations_p50_ms", True),
        ("recommendations() p95 (ms)", "recommendations_p95_ms", True),
        ("  caches emptied first, p50 (ms)", "uncached_p50_ms", True),
        ("  caches emptied first, p95 (ms)", "uncached_p95_ms", True),
        ("corpus sample drawn again, p50 (ms)", "corpus_sample_p50_ms", True),
    ]
    growth = len(summaries) > 1
    header = ["", *(f"{s['tracks']:,} tracks, {s['distribution']}" for s in summaries)]
    header += ["growth ×"] if growth else []
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]

    def cell(value):
        if value is None:
            return "–"
        if isinstance(value, float):
            return f"{value:.3f}" if value < 1 else f"{value:.1f}"
        return str(value)

    for label, key, grows in rows:
        values = [s.get(key) for s in summaries]
        line = [label, *(cell(v) for v in values)]
        if growth:
            first, last = values[0], values[-1]
            line.append(f"{last / first:.1f}" if grows and first and last else "")
        lines.append("| " + " | ".join(line) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks", type=int, nargs="+", action="extend", help="corpus sizes (default: 16000)")
    parser.add_argument("--queries", type=int, default=200, help="timed throughline queries")
    parser.add_argument("--recall-queries", type=int, default=100)
    parser.add_argument("--thumbs", type=int, default=100, help="timed thumb requests")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--distribution", choices=["musicnn-like", "isotropic"], default="musicnn-like",
                        help="how the synthetic vectors are spread (see above)")
    parser.add_argument("--spread", type=float, default=0.5,
                        help="musicnn-like: the noise around each real vector, relative to the real spread")
    parser.add_argument("--query-kind", choices=["centroid", "random"], default="centroid")
    parser.add_argument("--noise", type=float, default=0.2, help="noise added to centroid queries, relative")
    parser.add_argument("--target-recall", type=float, default=0.95)
    parser.add_argument("--skip-load", action="store_true", help="reuse the corpus loaded by an earlier run")
    parser.add_argument("--rebuild-index", action="store_true", help="with --skip-load: time a fresh index build")
    parser.add_argument("--maintenance-work-mem", help="for the index build only, e.g. 4GB "
                        "(default: the site's VECTOR_INDEX_BUILD_MEMORY_MB)")
    parser.add_argument("--parallel-workers", type=int, default=max(0, (os.cpu_count() or 1) - 1),
                        help="max_parallel_maintenance_workers for the index build (default: CPUs - 1)")
    parser.add_argument("--model", default="musicnn", help="name of the default model the vectors are stored under")
    parser.add_argument("--dim", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sizes = args.tracks or [16000]
    if len(sizes) > 1 and args.skip_load:
        parser.error("--skip-load reuses one loaded corpus; give a single --tracks with it.")
    if args.spread < 0:
        parser.error("--spread is a scale and cannot be negative.")
    args.build_memory_mb = None
    if args.maintenance_work_mem:
        size = MEMORY_SETTING.match(args.maintenance_work_mem)
        if not size:
            parser.error("--maintenance-work-mem takes a size such as 512MB or 4GB.")
        args.build_memory_mb = max(1, int(int(size.group(1)) * MB_PER_UNIT[size.group(2)]))

    data_dir = os.environ.get("WAVELENGTH_DATA")
    if not (data_dir or os.environ.get("DATABASE_URL")):
        print(
            "bench_search: it loads synthetic tracks into the database, so it needs one of its own: set "
            "WAVELENGTH_DATA to an empty directory (e.g. `WAVELENGTH_DATA=~/wavelength-bench "
            ".venv/bin/python bench/bench_search.py`) or DATABASE_URL to an empty database; skipped."
        )
        return
    if data_dir and not os.environ.get("DATABASE_URL") and Path(data_dir).expanduser().resolve() == ROOT / "var":
        refuse("WAVELENGTH_DATA names the site's own data directory; point it at an empty one.")

    setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    emit({"phase": "environment", **database_facts(), "loadavg": os.getloadavg()})
    summaries = [run_size(args, count) for count in sizes]
    print()
    print(markdown_table(summaries))


if __name__ == "__main__":
    main()
