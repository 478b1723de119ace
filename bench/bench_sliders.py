"""Sliders: whole rating sessions against the gate, the trade-off curve of its level, and the costs.

    .venv/bin/python bench/bench_sliders.py [--vectors corpus.npz] [--sessions 200] [--null-sessions 1000]
        [--no-timings] [--no-sessions] [--ratings 50 500 5000] [--catalogue 16000] [--blas-threads 1]
    .venv/bin/python bench/bench_sliders.py --vectors corpus.npz --statistics   # other statistics, same test

Sessions (on --vectors: an npz with `vectors` (n, d) and `packages`, a soundtrack per track, or a plain .npy
without soundtracks; without it, SYNTHETIC soundtracks, labelled so in the output):

  clear concept  one soundtrack rated 4 or 5, another 1 or 2 (of those with at least 12 pieces), each one's
                 pieces in random order; either taken in turn ("alternating") or drawn from both alike
                 ("pooled"); the gate looked at after each rating: the share lit by 10, 12, 16, 20 ratings
  random         random tracks rated 1–5 at random, looked at after every rating up to 60: the share of
                 sessions lit at any look (the session's false-light rate)
  trade-off      both of those for every level schedule of a grid (c at 10 ratings, then B over the later
                 looks as 1 / (n − 9)^γ), decided exactly as the gate
                 would from one pass (see `look`), with the union bound of each
  hidden         ratings along x_a − x_b with noise (0.5 and 1 standard deviation): the share lit at 8, 12,
                 16, 24 and 40 ratings under the gate as it is
  statistics     (--statistics) the same exact test at ten ratings of alternating clear-concept sessions with
                 other statistics (k nearest rated neighbours) and other spaces (whitened; each track smoothed
                 by its catalogue neighbours), and how well the two soundtracks' pieces separate at all;
                 first, the far end of the trade-off curve: the level at ten ratings that would light 30–90 %
                 of those sessions, which an exact test pays for with as many false lights at that look
  middle         held-out rank quality (Spearman with the hidden score on unrated tracks) of the head with
                 middle ratings down-weighted and with every rating alike, for an easy and a hard concept

Timings use synthetic unit vectors shaped like musicnn's: refit (fit_slider after each new rating), gate
(slider_skill), rank (predict and top 50 over --catalogue tracks), queue (rate_more_queue). Milliseconds,
median and 95th percentile.

--blas-threads (default 1) runs everything in a fresh process with OPENBLAS_NUM_THREADS and OMP_NUM_THREADS
set to it, since OpenBLAS reads them only when it loads; 0 keeps the library's default (a thread per core).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from taste.sliders import learning  # noqa: E402
from taste.sliders.learning import fit_slider, predict, slider_skill, top_by_slider  # noqa: E402
from taste.sliders.queue import rate_more_queue  # noqa: E402


def synthetic_vectors(count: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rank = min(40, dim)
    mean = rng.normal(size=dim)
    mean *= 0.7 / np.linalg.norm(mean)
    basis = np.linalg.qr(rng.normal(size=(dim, rank)))[0]
    scales = 0.3 * np.arange(1, rank + 1) ** -0.7
    clusters = rng.normal(size=(12, rank)) * scales
    vectors = np.empty((count, dim))
    for start in range(0, count, 65_536):
        rows = min(65_536, count - start)
        latent = clusters[rng.integers(0, 12, rows)] + rng.normal(size=(rows, rank)) * scales
        vectors[start : start + rows] = mean + latent @ basis.T + 0.01 * rng.normal(size=(rows, dim))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def hidden_direction_ratings(vectors: np.ndarray, rng: np.random.Generator, noise: float = 0.5) -> np.ndarray:
    a, b = rng.choice(len(vectors), 2, replace=False)
    scores = vectors @ (vectors[a] - vectors[b])
    standard = (scores - scores.mean()) / scores.std()
    return np.clip(np.round(3 + 1.2 * (standard + noise * rng.normal(size=len(scores)))), 1, 5)


def timed(function, repeats: int) -> list[float]:
    runs = []
    for index in range(repeats):
        start = time.perf_counter()
        function(index)
        runs.append(1000 * (time.perf_counter() - start))
    return runs


def summary(name: str, runs: list[float], **extra) -> dict:
    return {
        "measure": name,
        **extra,
        "runs": len(runs),
        "p50_ms": statistics.median(runs),
        "p95_ms": float(np.quantile(runs, 0.95)),
    }


def refit_and_gate(vectors: np.ndarray, ratings: np.ndarray, count: int, repeats: int, gate_repeats: int):
    fit_slider(vectors[:count], ratings[:count])
    refit = timed(lambda i: fit_slider(vectors[: count + i], ratings[: count + i]), repeats)
    gate = timed(lambda i: slider_skill(vectors[:count], ratings[:count]), gate_repeats)
    return summary("refit", refit, ratings=count), summary("gate", gate, ratings=count)


def ranking_and_queue(catalogue: np.ndarray, model, repeats: int) -> list[dict]:
    ids = np.arange(len(catalogue))
    rated = ids[:50]
    predict(model, catalogue)
    return [
        summary("rank: predict", timed(lambda i: predict(model, catalogue), repeats), tracks=len(catalogue)),
        summary(
            "rank: top 50",
            timed(lambda i: top_by_slider(model, catalogue, ids, count=50), repeats),
            tracks=len(catalogue),
        ),
        summary(
            "queue: with a model",
            timed(lambda i: rate_more_queue(model, catalogue, ids, rated), max(3, repeats // 4)),
            tracks=len(catalogue),
        ),
        summary(
            "queue: no model yet",
            timed(lambda i: rate_more_queue(None, catalogue, ids, rated), max(3, repeats // 4)),
            tracks=len(catalogue),
        ),
    ]


# Sessions: what a listener sees when the gate is looked at after every rating. Each session rates tracks one
# at a time; at each look the gate's skill and the positions of the shuffles that reached it are kept, drawn
# for the smallest level any schedule below asks, so that one pass decides every schedule of the trade-off
# curve exactly as the gate would (a level's shuffles are the first EXCEEDANCES / level − 1 of the same seeded
# stream, and the gate lights when fewer than EXCEEDANCES of them reach the skill).
# A schedule: (level at ten ratings, budget of the later looks, its decay), as learning.gate_level takes them.
CURVE_FIRSTS = (0.006, 0.007, 0.008, 0.01)
CURVE_LATER = ((0.002, 0.0), (0.002, 1.0), (0.002, 2.0))
CURVE_EXTRA = ((0.008, 0.001, 1.0), (0.008, 0.004, 1.0), (0.008, 0.01, 1.0))
SCHEDULES = tuple((first, budget, decay) for first in CURVE_FIRSTS for budget, decay in CURVE_LATER) + CURVE_EXTRA
HIDDEN_COUNTS = (8, 12, 16, 24, 40)
CLEAR_LOOKS = 20
CLEAR_SMALLEST = 12  # pieces a soundtrack needs to be one end of a clear word (the same 10 as before)
CLEAR_BY = (10, 12, 16, 20)


def schedule_level(count: int, schedule: tuple[float, float, float]) -> float:
    return learning.gate_level(count, *schedule) if count >= learning.GATE_MIN_RATINGS else 1.0


def smallest_level(count: int) -> float:
    return min(schedule_level(count, schedule) for schedule in SCHEDULES)


def shuffles_for(level: float) -> int:
    return int(np.ceil(learning.GATE_EXCEEDANCES / level)) - 1


def look(vectors: np.ndarray, ratings: np.ndarray, level: float) -> dict | None:
    """One look of the gate at `level` or any larger one; None where the gate would not even test."""
    ratings = np.asarray(ratings, dtype=np.float64)
    if not learning.gate_may_test(ratings):
        return None
    arrangements = learning.distinct_arrangements(ratings, learning.GATE_EXACT_ARRANGEMENTS)
    if arrangements is not None:
        statistic = learning._GateStatistic(vectors, ratings, np.ones(len(ratings)))
        skill = statistic.observed()
        if skill < learning.GATE_MIN_SKILL:
            return None
        return {"exact": float((statistic.skills(arrangements) >= skill - 1e-12).mean())}
    skill, skills = learning.shuffled_skills(
        vectors, ratings, most=shuffles_for(level), stop_after=learning.GATE_EXCEEDANCES
    )
    if skill < learning.GATE_MIN_SKILL:
        return None
    reached = np.flatnonzero(skills >= skill - 1e-12)[: learning.GATE_EXCEEDANCES]
    return {"drawn": len(skills), "reached": reached}


def lit_at(record: dict | None, level: float) -> bool:
    if record is None:
        return False
    if "exact" in record:
        return record["exact"] <= level
    most = shuffles_for(level)
    return record["drawn"] >= most and int((record["reached"] < most).sum()) < learning.GATE_EXCEEDANCES


def session_looks(vectors: np.ndarray, order: np.ndarray, ratings: np.ndarray, counts) -> dict[int, dict | None]:
    """The looks at each of `counts` ratings, in order, until the strictest schedule lights (then every schedule
    has lit, and later looks cannot change any first_lit)."""
    looks = {}
    for n in counts:
        looks[n] = look(vectors[order[:n]], ratings[:n], smallest_level(n))
        if lit_at(looks[n], smallest_level(n)):
            break
    return looks


def first_lit(looks: dict[int, dict | None], schedule: tuple[float, float, float]) -> int | None:
    """The first look at which the gate at this schedule lights; None if none."""
    for n in sorted(looks):
        if lit_at(looks[n], schedule_level(n, schedule)):
            return n
    return None


def soundtracks(packages: np.ndarray, smallest: int) -> list[np.ndarray]:
    names, counts = np.unique(packages, return_counts=True)
    return [np.flatnonzero(packages == name) for name in names[counts >= smallest]]


def clear_concept_sessions(vectors, packages, sessions: int, seed: int, alternate: bool) -> list[dict]:
    """One soundtrack rated 4 or 5, another 1 or 2, each soundtrack's tracks in random order; looks up to
    CLEAR_LOOKS. alternate: the listener takes one from each in turn (as when rating "this one, not that one");
    otherwise each next track comes from either soundtrack alike (their tracks pooled and shuffled)."""
    groups = soundtracks(packages, CLEAR_SMALLEST)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(sessions):
        a, b = rng.choice(len(groups), 2, replace=False)
        if alternate:
            order = np.empty(CLEAR_LOOKS, dtype=int)
            order[0::2] = rng.permutation(groups[a])[: (CLEAR_LOOKS + 1) // 2]
            order[1::2] = rng.permutation(groups[b])[: CLEAR_LOOKS // 2]
        else:
            order = rng.permutation(np.concatenate([groups[a], groups[b]]))[:CLEAR_LOOKS]
        high = np.isin(order, groups[a])
        ratings = np.where(high, rng.integers(4, 6, len(order)), rng.integers(1, 3, len(order)))
        out.append(session_looks(vectors, order, ratings, range(learning.GATE_MIN_RATINGS, CLEAR_LOOKS + 1)))
    return out


def random_sessions(vectors, sessions: int, seed: int, last: int = learning.GATE_SESSION) -> list[dict]:
    """Random tracks rated at random (1–5 alike), the gate looked at after every rating up to `last`."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(sessions):
        order = rng.choice(len(vectors), last, replace=False)
        ratings = rng.integers(1, 6, last)
        out.append(session_looks(vectors, order, ratings, range(learning.GATE_MIN_RATINGS, last + 1)))
    return out


def hidden_direction_shares(vectors, sessions: int, seed: int, noise: float) -> dict[int, float]:
    """Share lit at each of HIDDEN_COUNTS ratings along x_a − x_b with noise, under the gate as it is."""
    rng = np.random.default_rng(seed)
    lit = {n: 0 for n in HIDDEN_COUNTS}
    for _ in range(sessions):
        ratings = hidden_direction_ratings(vectors, rng, noise)
        order = rng.choice(len(vectors), max(HIDDEN_COUNTS), replace=False)
        for n in HIDDEN_COUNTS:
            lit[n] += learning.slider_skill(vectors[order[:n]], ratings[order[:n]]).lit
    return {n: lit[n] / sessions for n in HIDDEN_COUNTS}


def middle_weighting(vectors, sessions: int, seed: int) -> list[dict]:
    """Held-out rank quality (Spearman of predictions with the hidden score on unrated tracks) with middle
    ratings down-weighted as the head does, and with every rating weighed alike, for easy and hard concepts."""
    rng = np.random.default_rng(seed)
    rows = []
    for label, noise in (("easy (noise 0.5)", 0.5), ("hard (noise 1.5)", 1.5)):
        for count in (16, 40):
            weighted, flat = [], []
            for _ in range(sessions):
                a, b = rng.choice(len(vectors), 2, replace=False)
                scores = vectors @ (vectors[a] - vectors[b])
                standard = (scores - scores.mean()) / scores.std()
                ratings = np.clip(np.round(3 + 1.2 * (standard + noise * rng.normal(size=len(scores)))), 1, 5)
                order = rng.permutation(len(vectors))
                rated, unseen = order[:count], order[count:]
                if ratings[rated].min() == ratings[rated].max():
                    continue
                for target, weights in ((weighted, None), (flat, np.ones(count))):
                    if weights is None:
                        model = fit_slider(vectors[rated], ratings[rated])
                    else:
                        model = learning.fit_ridge(vectors[rated], ratings[rated], weights)
                    target.append(learning.spearman(predict(model, vectors[unseen]), scores[unseen]))
            rows.append({
                "concept": label, "ratings": count, "sessions": len(weighted),
                "down_weighted": float(np.mean(weighted)), "alike": float(np.mean(flat)),
            })
    return rows


# Other statistics for the same exact test, on the first ten ratings of alternating clear-concept sessions: is
# the gate's ridge what keeps a clear word dark on real vectors, or do the vectors not tell the soundtracks apart?
def _whitened(vectors: np.ndarray, axes: int) -> np.ndarray:
    centred = vectors - vectors.mean(axis=0)
    _, spread, directions = np.linalg.svd(centred, full_matrices=False)
    out = centred @ directions[:axes].T / spread[:axes]
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def _smoothed(vectors: np.ndarray, neighbours: int) -> np.ndarray:
    """Each track as the mean of itself and its nearest catalogue neighbours: what the catalogue says it is."""
    nearest = np.argsort(-(vectors @ vectors.T), axis=1)[:, : neighbours + 1]
    out = vectors[nearest].mean(axis=1)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def _ridge_skills(rated: np.ndarray, arrangements: np.ndarray, alphas=learning.GATE_ALPHAS) -> np.ndarray:
    weights = np.ones(arrangements.shape[1])
    return learning._GateStatistic(rated, arrangements[0], weights, alphas).skills(arrangements)


def _nearest_skills(rated: np.ndarray, arrangements: np.ndarray, neighbours: int) -> np.ndarray:
    """Pearson of each track's leave-one-out k-nearest-rated-neighbours mean with the ratings, per arrangement."""
    similarity = rated @ rated.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = np.argsort(-similarity, axis=1)[:, :neighbours]
    averaging = np.zeros_like(similarity)
    np.put_along_axis(averaging, nearest, 1.0 / neighbours, axis=1)
    predictions = arrangements @ averaging.T
    a = predictions - predictions.mean(axis=1, keepdims=True)
    b = arrangements - arrangements.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num((a * b).sum(axis=1) / np.sqrt((a**2).sum(axis=1) * (b**2).sum(axis=1)))


def first_ten_of_clear_sessions(packages, sessions: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(tracks, ratings) of the first ten ratings of `sessions` alternating clear-concept sessions."""
    groups = soundtracks(packages, CLEAR_SMALLEST)
    rng = np.random.default_rng(seed)
    drawn = []
    for _ in range(sessions):
        a, b = rng.choice(len(groups), 2, replace=False)
        order = np.empty(10, dtype=int)
        order[0::2], order[1::2] = rng.permutation(groups[a])[:5], rng.permutation(groups[b])[:5]
        drawn.append((order, np.where(np.isin(order, groups[a]), rng.integers(4, 6, 10), rng.integers(1, 3, 10))))
    return drawn


def exact_p_value(rated: np.ndarray, ratings: np.ndarray, skills_of=_ridge_skills) -> float:
    """The exact permutation p-value of `ratings` of the `rated` vectors under a statistic (default the gate's)."""
    ratings = np.asarray(ratings, dtype=np.float64)
    arrangements = learning.distinct_arrangements(ratings, learning.GATE_EXACT_ARRANGEMENTS)
    observed = skills_of(rated, ratings[None, :])[0]
    return float((skills_of(rated, arrangements) >= observed - 1e-12).mean())


LEVEL_NEEDED_SHARES = (0.3, 0.5, 0.75, 0.9)


def level_needed(vectors, packages, sessions: int, seed: int) -> None:
    """The far end of the trade-off curve: what level at ten ratings would light a given share of clear words.

    The test at ten ratings is exact, so at level c it lights random ratings with chance c at that look alone:
    c is what the session's false-light rate would at least be. The gate's own p-values of the first ten
    ratings of alternating sessions, and the quantiles of them that reach each share.
    """
    drawn = first_ten_of_clear_sessions(packages, sessions, seed)
    p_values = np.sort([exact_p_value(vectors[order], ratings) for order, ratings in drawn])
    print(f"\nThe far end of the trade-off: the gate's exact p-value at ten ratings, {sessions} alternating "
          "clear-concept sessions.\nTo light a share of them by ten ratings the level at ten must be at least:\n")
    print("| clear words lit by 10 | level at 10 needed | random ratings lit at that look alone |")
    print("|---:|---:|---:|")
    for share in LEVEL_NEEDED_SHARES:
        needed = float(p_values[int(np.ceil(share * len(p_values))) - 1])
        print(f"| {share:.0%} | {needed:.3f} | {needed:.1%} |")


def statistic_comparison(vectors, packages, sessions: int, seed: int) -> None:
    groups = soundtracks(packages, CLEAR_SMALLEST)
    drawn = first_ten_of_clear_sessions(packages, sessions, seed)
    spaces = {"the vectors": vectors, "whitened (16 axes)": _whitened(vectors, 16),
              "smoothed by 10 neighbours": _smoothed(vectors, 10), "smoothed by 20 neighbours": _smoothed(vectors, 20)}
    statistics_ = {"ridge at α = 1 (the gate)": _ridge_skills,
                   "ridge, best of the head's 17 penalties": lambda x, r: _ridge_skills(x, r, learning.ALPHA_GRID),
                   "ridge, best of 5 (0.1–1000)": lambda x, r: _ridge_skills(x, r, learning.ALPHA_GRID[::4]),
                   "ridge, α = 10": lambda x, r: _ridge_skills(x, r, [10.0]),
                   "1 nearest rated": lambda x, r: _nearest_skills(x, r, 1),
                   "3 nearest rated": lambda x, r: _nearest_skills(x, r, 3)}
    print(f"\nOther statistics, same exact test, first ten ratings of {sessions} alternating clear-concept sessions:\n")
    print("| statistic | space | lit at p ≤ 0.8 % | median p |")
    print("|---|---|---:|---:|")
    for space_name, space in spaces.items():
        for name, skills_of in statistics_.items():
            p_values = np.array([exact_p_value(space[order], ratings, skills_of) for order, ratings in drawn])
            print(f"| {name} | {space_name} | {np.mean(p_values <= learning.GATE_LEVEL_AT_10):.0%} "
                  f"| {np.median(p_values):.3f} |")
    agreement = []
    for first in range(len(groups)):
        for second in range(first + 1, len(groups)):
            members = np.concatenate([groups[first], groups[second]])
            side = np.isin(members, groups[first])
            similarity = vectors[members] @ vectors[members].T
            np.fill_diagonal(similarity, -np.inf)
            agreement.append(np.mean(side[np.argmax(similarity, axis=1)] == side))
    agreement = np.array(agreement)
    print(f"\nEvery piece of two soundtracks, each against its nearest other piece of the two: same soundtrack for a "
          f"median {np.median(agreement):.0%} of pieces; {np.mean(agreement >= 0.9):.0%} of the {len(agreement)} pairs "
          f"reach 90 %, {np.mean(agreement >= 0.99):.0%} reach 99 %.")


def load_vectors(path: Path) -> tuple[np.ndarray, np.ndarray | None, str]:
    if path.suffix == ".npz":
        data = np.load(path, allow_pickle=False)
        vectors, packages = data["vectors"].astype(np.float64), data["packages"].astype(str)
        label = f"{path.name}: {len(vectors)} real vectors, {len(np.unique(packages))} soundtracks"
    else:
        vectors, packages = np.load(path).astype(np.float64), None
        label = f"{path.name}: {len(vectors)} real vectors, no soundtracks"
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True), packages, label


def synthetic_corpus(count: int, dim: int, seed: int, soundtracks_count: int = 60):
    """Vectors shaped like a corpus of soundtracks: each soundtrack a tight group around its own point of the
    musicnn-like space of `synthetic_vectors` (its pieces share instruments and a style), sizes 8 to 60."""
    rng = np.random.default_rng(seed)
    centres = synthetic_vectors(soundtracks_count, dim, seed)
    sizes = rng.integers(8, 61, soundtracks_count)
    sizes = np.maximum(1, np.round(sizes * count / sizes.sum())).astype(int)
    spread = synthetic_vectors(int(sizes.sum()), dim, seed + 7)
    packages = np.repeat(np.arange(soundtracks_count), sizes)
    vectors = centres[packages] + 0.6 * (spread - spread.mean(axis=0))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors, np.array([f"soundtrack-{p}" for p in packages]), (
        f"SYNTHETIC: {len(vectors)} vectors in {soundtracks_count} synthetic soundtracks"
    )


def report_sessions(vectors, packages, label: str, sessions: int, null_sessions: int, seed: int) -> None:
    print(f"\n### Gate sessions on {label}\n")
    start = time.perf_counter()
    designs = {}
    if packages is not None:
        designs["alternating"] = clear_concept_sessions(vectors, packages, sessions, seed, alternate=True)
        designs["pooled"] = clear_concept_sessions(vectors, packages, sessions, seed + 5, alternate=False)
    null = random_sessions(vectors, null_sessions, seed + 1)
    chosen_schedule = (learning.GATE_LEVEL_AT_10, learning.GATE_LATER_BUDGET, learning.GATE_LATER_DECAY)
    print(f"Trade-off: level c at 10 ratings, then a budget B shared by the looks 11–{learning.GATE_SESSION} as "
          f"1 / (n − 9)^γ; {sessions} clear-concept sessions per design, {len(null)} sessions of random ratings "
          f"looked at after every rating from {learning.GATE_MIN_RATINGS} to {learning.GATE_SESSION}:\n")
    by = " / ".join(str(n) for n in CLEAR_BY)
    print(f"| c | B | γ | union bound | clear, alternating: lit by {by} | clear, pooled: lit by {by} "
          "| random ratings lit within 60 |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for schedule in SCHEDULES:
        bound = sum(schedule_level(n, schedule) for n in range(learning.GATE_MIN_RATINGS, learning.GATE_SESSION + 1))
        shares = {}
        for name, design in designs.items():
            firsts = [first_lit(s, schedule) for s in design]
            shares[name] = [np.mean([f is not None and f <= n for f in firsts]) for n in CLEAR_BY]
        false = np.mean([first_lit(s, schedule) is not None for s in null])
        chosen = " **chosen**" if schedule == chosen_schedule else ""
        alternating = " / ".join(f"{v:.0%}" for v in shares.get("alternating", []))
        pooled = " / ".join(f"{v:.0%}" for v in shares.get("pooled", []))
        first, budget, decay = schedule
        print(f"| {first:g}{chosen} | {budget:g} | {decay:g} | {bound:.4f} | {alternating} | {pooled} | {false:.1%} |")
    lit_when = sorted(n for n in (first_lit(s, chosen_schedule) for s in null) if n is not None)
    print(f"\nRandom ratings under the chosen rule: lit in {len(lit_when)} of {len(null)} sessions (first at "
          f"{lit_when} ratings).")
    print()
    print("| hidden direction | " + " | ".join(f"{n} ratings" for n in HIDDEN_COUNTS) + " |")
    print("|---|" + "---:|" * len(HIDDEN_COUNTS))
    for noise in (0.5, 1.0):
        shares = hidden_direction_shares(vectors, sessions, seed + 2, noise)
        print(f"| noise {noise} ({sessions} sessions) | " + " | ".join(f"{v:.0%}" for v in shares.values()) + " |")
    print("\n| concept | ratings | sessions | held-out Spearman, middle down-weighted | every rating alike |")
    print("|---|---:|---:|---:|---:|")
    for row in middle_weighting(vectors, sessions, seed + 3):
        print(f"| {row['concept']} | {row['ratings']} | {row['sessions']} | {row['down_weighted']:.3f} | "
              f"{row['alike']:.3f} |")
    print(f"\n({time.perf_counter() - start:.0f} s)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ratings", type=int, nargs="+", default=[50, 500, 5000])
    parser.add_argument("--catalogue", type=int, default=16_000)
    parser.add_argument("--dim", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--gate-repeats", type=int, default=3)
    parser.add_argument("--vectors", type=Path, default=None, help="npz (ids, vectors, packages, titles) or npy")
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--null-sessions", type=int, default=1000)
    parser.add_argument("--no-timings", action="store_true")
    parser.add_argument("--no-sessions", action="store_true")
    parser.add_argument("--statistics", action="store_true", help="only compare other gate statistics (--vectors)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--blas-threads", type=int, default=1)
    args = parser.parse_args()
    threads = str(args.blas_threads)
    if args.blas_threads > 0 and os.environ.get("OPENBLAS_NUM_THREADS") != threads:
        child_environment = {**os.environ, "OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads}
        sys.exit(subprocess.run([sys.executable, __file__, *sys.argv[1:]], env=child_environment).returncode)

    environment = {
        "cpus": os.cpu_count(),
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or "default",
        "dim": args.dim,
    }
    print(json.dumps({"environment": environment}))
    if args.statistics:
        vectors, packages, _ = load_vectors(args.vectors)
        level_needed(vectors, packages, args.sessions, args.seed)
        statistic_comparison(vectors, packages, args.sessions, args.seed)
        return
    if not args.no_timings:
        timings(args, environment)
    if not args.no_sessions:
        if args.vectors is not None:
            vectors, packages, label = load_vectors(args.vectors)
        else:
            vectors, packages, label = synthetic_corpus(3000, args.dim, args.seed)
        report_sessions(vectors, packages, label, args.sessions, args.null_sessions, args.seed)
        sys.stdout.flush()


def timings(args, environment) -> None:
    rng = np.random.default_rng(args.seed)
    most = max(args.ratings) + args.repeats
    rated_vectors = synthetic_vectors(most, args.dim, args.seed)
    ratings = hidden_direction_ratings(rated_vectors, rng)
    rows = []
    for count in args.ratings:
        rows.extend(refit_and_gate(rated_vectors, ratings, count, args.repeats, args.gate_repeats))
        for row in rows[-2:]:
            print(json.dumps(row))

    catalogue = synthetic_vectors(args.catalogue, args.dim, args.seed + 1).astype(np.float32)
    model = fit_slider(rated_vectors[:500], ratings[:500])
    for row in ranking_and_queue(catalogue, model, args.repeats):
        rows.append(row)
        print(json.dumps(row))

    print()
    print(f"{environment['cpus']} CPUs, BLAS threads: {environment['blas_threads']}, d = {args.dim}")
    print("| measure | ratings / tracks | p50 ms | p95 ms |")
    print("|---|---:|---:|---:|")
    for row in rows:
        size = row.get("ratings", row.get("tracks"))
        print(f"| {row['measure']} | {size} | {row['p50_ms']:.2f} | {row['p95_ms']:.2f} |")


if __name__ == "__main__":
    main()
