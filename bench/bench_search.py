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
import http.cookiejar
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

# NumPy's BLAS would start a thread per core, competing with PostgreSQL on the same cores for the exact search;
# the web server gets the same setting, as in production. Must be set before NumPy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SOURCE_KEY_PREFIX = "bench-search/"
# Vectors are generated in chunks with a seed each, so track i gets the same vector whatever N is and a loaded
# corpus can be regenerated for exact search without reading it back.
CHUNK = 65_536
RECALL_K = 20
PGVECTOR_DEFAULT_EF_SEARCH = 40
MAX_EF_SEARCH = 1000  # pgvector refuses a larger hnsw.ef_search
SEEDS, LIKES, TOGGLED = 10, 20, 10
BENCH_USER = "bench-search"
MEMORY_SETTING = re.compile(r"^(\d+)\s*(kB|MB|GB)$")
MB_PER_UNIT = {"kB": 1 / 1024, "MB": 1, "GB": 1024}
MUSICNN_SAMPLE = ROOT / "tests" / "data" / "musicnn_sample.npy"
GEOMETRY_PERCENTILES = (5, 25, 50, 75, 95)


def percentiles(seconds: list[float]) -> dict:
    ms = 1000 * np.asarray(seconds)
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)), "n": len(ms)}


def unit_rows(array: np.ndarray) -> np.ndarray:
    return (array / np.linalg.norm(array, axis=-1, keepdims=True)).astype(np.float32)


def real_sample() -> np.ndarray:
    return unit_rows(np.load(MUSICNN_SAMPLE).astype(np.float32))


class Isotropic:
    name = "isotropic"

    def __init__(self, dim: int):
        self.dim = dim

    def marker(self) -> dict:
        return {"distribution": self.name}

    def sample(self, rng: np.random.Generator, count: int) -> np.ndarray:
        return rng.standard_normal((count, self.dim), dtype=np.float32)

    def directions(self, rng: np.random.Generator, count: int) -> np.ndarray:
        # Float64, as before there was a choice, so that isotropic runs keep their earlier queries.
        return rng.standard_normal((count, self.dim))


class MusicnnLike:
    """Real musicnn vectors, each blurred by covariance-shaped noise; see the module docstring."""

    name = "musicnn-like"

    def __init__(self, real: np.ndarray, spread: float):
        self.real, self.spread = real, spread
        self.dim = real.shape[1]
        self.mean = real.mean(axis=0)
        covariance = np.cov(real, rowvar=False)
        # With fewer real vectors than dimensions' worth of signal the smallest eigenvalues are near zero; the
        # jitter only keeps the factorisation from failing on them.
        jitter = 1e-9 * np.trace(covariance) / self.dim * np.eye(self.dim)
        self.shape = np.linalg.cholesky(covariance + jitter).astype(np.float32)

    def marker(self) -> dict:
        return {"distribution": self.name, "spread": self.spread}

    def sample(self, rng: np.random.Generator, count: int) -> np.ndarray:
        parents = rng.integers(0, len(self.real), size=count)
        noise = self.directions(rng, count)
        return self.mean + (self.real[parents] - self.mean + self.spread * noise) / np.sqrt(1 + self.spread**2)

    def directions(self, rng: np.random.Generator, count: int) -> np.ndarray:
        return rng.standard_normal((count, self.dim), dtype=np.float32) @ self.shape.T


def vector_distribution(name: str, dim: int, spread: float):
    if name == "isotropic":
        return Isotropic(dim)
    real = real_sample()
    if real.shape[1] != dim:
        refuse(f"--distribution musicnn-like copies {real.shape[1]}-d musicnn vectors; use --dim {real.shape[1]}.")
    return MusicnnLike(real, spread)


def corpus_vectors(count: int, distribution, seed: int) -> np.ndarray:
    vectors = np.empty((count, distribution.dim), dtype=np.float32)
    for first in range(0, count, CHUNK):
        rng = np.random.default_rng([seed, first // CHUNK])
        rows = min(CHUNK, count - first)
        vectors[first : first + rows] = unit_rows(distribution.sample(rng, CHUNK))[:rows]
    return vectors


def cosine_spread(vectors: np.ndarray) -> dict:
    """Percentiles of the cosines of all pairs and of each row's nearest other row (unit rows)."""
    similarity = vectors @ vectors.T
    pairs = similarity[np.triu_indices(len(vectors), k=1)]
    np.fill_diagonal(similarity, -np.inf)
    return {
        "pair_cosine": np.percentile(pairs, GEOMETRY_PERCENTILES).round(3).tolist(),
        "nearest_cosine": np.percentile(similarity.max(axis=1), GEOMETRY_PERCENTILES).round(3).tolist(),
    }


def geometry_figures(corpus: np.ndarray, chunk: int = 131_072) -> dict:
    """The real sample against as many corpus rows, and each real vector's most similar corpus row."""
    real = real_sample()
    if real.shape[1] != corpus.shape[1]:
        return {"note": f"the real sample is {real.shape[1]}-d, the corpus {corpus.shape[1]}-d"}
    closest = np.full(len(real), -np.inf, dtype=np.float32)
    for first in range(0, len(corpus), chunk):
        closest = np.maximum(closest, (real @ corpus[first : first + chunk].T).max(axis=1))
    return {
        "percentiles": list(GEOMETRY_PERCENTILES),
        "real": cosine_spread(real),
        "synthetic": cosine_spread(corpus[: len(real)]),
        "real_to_nearest_corpus_row": np.percentile(closest, GEOMETRY_PERCENTILES).round(3).tolist(),
    }


def make_queries(
    kind: str, count: int, corpus: np.ndarray, rng: np.random.Generator, noise: float, distribution
) -> np.ndarray:
    if kind == "random":
        return unit_rows(distribution.sample(rng, count))
    directions = unit_rows(distribution.directions(rng, count))
    queries = []
    for direction in directions:
        picks = rng.choice(len(corpus), size=int(rng.integers(2, 4)), replace=False)
        centroid = unit_rows(corpus[picks].sum(axis=0))
        queries.append(unit_rows(centroid + noise * direction))
    return np.stack(queries)


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


def emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def refuse(message: str) -> None:
    print(f"bench_search: {message}", file=sys.stderr)
    sys.exit(1)


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


def refuse_foreign_tracks() -> None:
    from tracks.models import Track

    foreign = Track.objects.exclude(source_key__startswith=SOURCE_KEY_PREFIX).count()
    if foreign:
        refuse(
            f"the database holds {foreign} tracks this benchmark did not make, and it deletes and reloads tracks. "
            "Point WAVELENGTH_DATA at an empty directory (or DATABASE_URL at an empty database) and run it again."
        )


def benchmark_model(name: str, dim: int):
    from embedding.models import EmbeddingModel

    model, _ = EmbeddingModel.objects.get_or_create(name=name, defaults={"dim": dim, "is_default": True})
    if model.dim != dim:
        refuse(f"the model {name} here stores {model.dim}-d vectors, not {dim}; use an empty database.")
    if not model.is_default:
        model.is_default = True
        model.save()
    return model


def clear_corpus() -> None:
    """Delete every track (refuse_foreign_tracks has checked they are all synthetic) with its vectors and thumbs."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE tracks_track, embedding_trackembedding, taste_thumb, taste_stationseed RESTART IDENTITY CASCADE"
        )


def load_corpus(model, vectors: np.ndarray, seed: int, distribution) -> tuple[dict, np.ndarray]:
    """Load one synthetic track per row of `vectors` into an empty catalogue; returns timings and track ids."""
    import psycopg
    from django.db import connection
    from django.utils import timezone
    from pgvector.psycopg import register_vector
    from psycopg.types.json import Jsonb

    from embedding.vector_index import drop_vector_index

    count = len(vectors)
    model.settings = {
        "synthetic": {"tracks": count, "seed": seed, **distribution.marker(), "made_by": "bench/bench_search.py"}
    }
    model.save()
    # The index is built once the rows are in, which is far faster than growing it row by row, and timed apart.
    drop_vector_index(model)

    figures = {}
    now = timezone.now()
    artists = max(1, count // 10)  # ten tracks per artist, so the per-artist cap on a page has work to do
    start = time.perf_counter()
    with psycopg.connect(**connection.get_connection_params()) as loader:
        register_vector(loader)
        with loader.cursor() as cursor:
            columns = (
                "title, artist, album, genre, source, source_key, preview_url, audio_file, audio_path, artwork_url, "
                "content_sha256, status, error, hidden, created, updated"
            )
            with cursor.copy(f"COPY tracks_track ({columns}) FROM STDIN") as copy:
                for i in range(count):
                    copy.write_row(
                        (f"Synthetic track {i}", f"Synthetic artist {i % artists}", "", "", "folder",
                         f"{SOURCE_KEY_PREFIX}{i:07d}", "", "", "", "", "", "ready", "", False, now, now)
                    )
            cursor.execute(
                "SELECT id FROM tracks_track WHERE source_key LIKE %s ORDER BY source_key", [f"{SOURCE_KEY_PREFIX}%"]
            )
            track_ids = np.array([row[0] for row in cursor.fetchall()], dtype=np.int64)
            figures["tracks_s"] = time.perf_counter() - start

            start = time.perf_counter()
            with cursor.copy(
                "COPY embedding_trackembedding (track_id, model_id, vector, tags, created) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["int8", "int8", "vector", "jsonb", "timestamptz"])
                no_tags = Jsonb({})
                for track_id, vector in zip(track_ids.tolist(), vectors):
                    copy.write_row((track_id, model.pk, vector, no_tags, now))
            figures["vectors_s"] = time.perf_counter() - start

    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE tracks_track")
        cursor.execute("VACUUM ANALYZE embedding_trackembedding")
    figures["vacuum_analyze_s"] = time.perf_counter() - start
    return figures, track_ids


def loaded_track_ids(model, count: int, seed: int, vectors: np.ndarray, distribution) -> np.ndarray:
    """The ids of an already loaded corpus, after checking it is the one the arguments describe."""
    from django.db import connection

    from embedding.models import TrackEmbedding

    # Corpora loaded before there was a choice of distribution were all isotropic.
    synthetic = {"distribution": "isotropic", **model.settings.get("synthetic", {})}
    wanted = {"tracks": count, "seed": seed, **distribution.marker()}
    if any(synthetic.get(key) != value for key, value in wanted.items()):
        described = ", ".join(f"{key} {value}" for key, value in wanted.items())
        refuse(f"--skip-load: the database holds no corpus with {described}; run without it.")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM tracks_track WHERE source_key LIKE %s ORDER BY source_key", [f"{SOURCE_KEY_PREFIX}%"]
        )
        track_ids = np.array([row[0] for row in cursor.fetchall()], dtype=np.int64)
    if len(track_ids) != count:
        refuse(f"--skip-load: found {len(track_ids)} synthetic tracks, not {count}; run without it.")
    rows = np.random.default_rng(seed).choice(count, size=min(5, count), replace=False)
    sampled = TrackEmbedding.objects.filter(model=model, track_id__in=track_ids[rows].tolist())
    stored = {track_id: np.asarray(vector) for track_id, vector in sampled.values_list("track_id", "vector")}
    for row in rows:
        vector = stored.get(int(track_ids[row]))
        if vector is None or vector.shape != vectors[row].shape or not np.allclose(vector, vectors[row]):
            refuse("--skip-load: the stored vectors are not the ones this seed makes; run without it.")
    return track_ids


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


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, log) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "discovery.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
               "--timeout", "120"]
    server = subprocess.Popen(command, cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
    stop_server(server)
    refuse("the web server did not come up; its output:\n" + server_output(log))


def server_output(log) -> str:
    # Read through a second handle: seeking the server's own would move where it writes next.
    return Path(log.name).read_text(errors="replace")[-3000:]


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)  # gunicorn stops its worker gracefully on SIGTERM
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def log_in(base: str, username: str, password: str):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _KeepRedirects)
    with opener.open(f"{base}/accounts/login/", timeout=30) as response:
        form = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token, "next": "/"}
    ).encode()
    try:
        opener.open(f"{base}/accounts/login/", data, timeout=30)
        refuse("logging in did not redirect; the password was not accepted.")
    except urllib.error.HTTPError as error:
        if error.code != 302 or "/accounts/login/" in error.headers.get("Location", ""):
            refuse(f"logging in failed with HTTP {error.code}.")
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    return opener, csrf


def thumb_figures(model, corpus: np.ndarray, track_ids: np.ndarray, rng, thumbs: int, warmup: int) -> dict:
    from django.contrib.auth import get_user_model

    from discovery.engine.candidates import ANCHOR_CANDIDATES, THROUGHLINE_CANDIDATES, THROUGHLINE_EF_SEARCH
    from discovery.engine.ranking import throughline_vector
    from embedding import samples
    from embedding.vector_index import forget_cached_vectors, nearest_neighbours_many
    from taste.stations.recommendations import recommendations
    from taste.stations.services import create_station, set_thumb

    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER)
    password = secrets.token_urlsafe(18)
    user.set_password(password)
    user.save()
    user.stations.all().delete()
    rows = rng.choice(len(track_ids), size=SEEDS + LIKES + TOGGLED, replace=False)
    ids = track_ids[rows].tolist()
    seeds, likes, toggled = ids[:SEEDS], ids[SEEDS : SEEDS + LIKES], ids[SEEDS + LIKES :]
    station = create_station(user, seeds, "Benchmark station")
    for track_id in likes:
        set_thumb(station, track_id, "up")

    figures = {"anchors": SEEDS + LIKES, "in_process": {}}
    throughline = throughline_vector(corpus[rows[:SEEDS]])
    anchors = corpus[rows[: SEEDS + LIKES]]

    def uncached_recommendations():
        # What a station pays when none of its neighbourhoods or vectors are in this process's caches yet.
        forget_cached_vectors()
        return recommendations(station)

    def corpus_sample_refresh():
        # The sample is cached per process for minutes; one request in that many pays for drawing it again.
        samples._corpus_samples.clear()
        return samples.corpus_sample(model)

    # (step, runs, of which warm-up): the refresh reads the whole table, so it gets fewer runs.
    steps = {
        "recommendations": (lambda: recommendations(station), warmup + 30, warmup),
        "recommendations_uncached": (uncached_recommendations, warmup + 30, warmup),
        "corpus_sample_refresh": (corpus_sample_refresh, 12, 2),
        "throughline_candidates": (
            lambda: nearest_neighbours_many(
                model, throughline, limit=THROUGHLINE_CANDIDATES, ef_search=THROUGHLINE_EF_SEARCH
            ),
            warmup + 30,
            warmup,
        ),
        "anchor_candidates": (
            lambda: nearest_neighbours_many(model, anchors, limit=ANCHOR_CANDIDATES), warmup + 30, warmup
        ),
    }
    for name, (step, runs, skipped) in steps.items():
        seconds = []
        for run in range(runs):
            start = time.perf_counter()
            step()
            if run >= skipped:
                seconds.append(time.perf_counter() - start)
        figures["in_process"][name] = percentiles(seconds)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.NamedTemporaryFile(prefix="bench-search-server-", suffix=".log") as log:
        server = start_server(port, log)
        try:
            opener, csrf = log_in(base, BENCH_USER, password)
            url = f"{base}/stations/{station.pk}/thumbs/"
            seconds = []
            # Up then clear on the same track keeps the station at 30-31 anchors for any number of requests.
            for i in range(warmup + thumbs):
                value = "up" if i % 2 == 0 else "clear"
                data = urllib.parse.urlencode({"track": toggled[(i // 2) % len(toggled)], "value": value}).encode()
                request = urllib.request.Request(url, data, headers={"HX-Request": "true", "X-CSRFToken": csrf})
                start = time.perf_counter()
                try:
                    with opener.open(request, timeout=60) as response:
                        body = response.read()
                except urllib.error.HTTPError as error:
                    body = b""
                    response = error
                elapsed = time.perf_counter() - start
                if response.status != 200 or b'id="station-live"' not in body:
                    refuse(
                        f"a thumb got HTTP {response.status}, not the station partial; the server said:\n"
                        + server_output(log)
                    )
                if i >= warmup:
                    seconds.append(elapsed)
        finally:
            stop_server(server)
    figures["http"] = {
        "server": "gunicorn, 1 sync worker", "timed": "client round trip on 127.0.0.1", "warmup": warmup,
        **percentiles(seconds),
    }
    user.stations.all().delete()
    return figures


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
