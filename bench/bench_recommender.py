"""The two-tower recommender against the centroid throughline, on synthetic albums shaped like real music.

    .venv/bin/python bench/bench_recommender.py [--albums 2000] [--size 8] [--distractors 20000] [--device cpu]
        [--item-epochs 20]

No database. Each album is built around one or two "styles" (real musicnn vectors from
tests/data/musicnn_sample.npy, as bench/search_vectors.py's musicnn-like distribution draws them): every track
is one of its album's styles plus covariance-shaped noise, so an album that mixes two styles is one a mean
vector sits between. Distractors are musicnn-like tracks of no album. 80% of the albums train the two-tower
(discovery/atlas/two_tower_model.py, as `manage.py train_recommender` runs it), the other 20% are held out:
their first half are the anchors and the rest are to be found among every other track. Prints the two lines
`train_recommender` prints, then the training's epochs and time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.search_vectors import MusicnnLike, real_sample, unit_rows  # noqa: E402
from discovery.engine.two_tower import (  # noqa: E402
    TwoTowerWeights,
    centroid_query,
    evaluate,
    item_vectors,
    query_vector,
)


def corpus(albums: int, size: int, distractors: int, seed: int):
    rng = np.random.default_rng(seed)
    real = real_sample()
    shape = MusicnnLike(real, 0.5)
    rows, sets = [], []
    for a in range(albums):
        styles = real[rng.choice(len(real), size=1 + (a % 2), replace=False)]
        picks = styles[rng.integers(len(styles), size=size)]
        noise = 0.5 * (rng.standard_normal((size, real.shape[1]), dtype=np.float32) @ shape.shape.T)
        # As MusicnnLike scales its mixture (spread 0.5), so album tracks keep the real mean and covariance.
        rows.append(unit_rows(shape.mean + (picks - shape.mean + noise) / np.sqrt(1.25)))
        sets.append(list(range(a * size, (a + 1) * size)))
    rows.append(unit_rows(shape.sample(rng, distractors)))
    return np.vstack(rows), sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--albums", type=int, default=2000)
    parser.add_argument("--size", type=int, default=8)
    parser.add_argument("--distractors", type=int, default=20_000)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--item-epochs", type=int, default=20, help="epochs of the track tower once it may move")
    args = parser.parse_args()

    from discovery.atlas.two_tower_model import TwoTowerConfig, export, train

    vectors, sets = corpus(args.albums, args.size, args.distractors, args.seed)
    ids = np.arange(len(vectors))
    held = [s for k, s in enumerate(sets) if k % 5 == 0]
    training = [s for k, s in enumerate(sets) if k % 5]
    started = time.perf_counter()
    config = TwoTowerConfig(dim=vectors.shape[1], item_epochs=args.item_epochs)
    query, track, report = train(vectors, training, config, device=args.device)
    seconds = time.perf_counter() - started
    weights = TwoTowerWeights.from_json(export(query.cpu(), track.cpu()))
    two = evaluate(held, ids, vectors, lambda a: query_vector(weights, a), lambda v: item_vectors(weights, v))
    centroid = evaluate(held, ids, vectors, centroid_query)
    print(f"two-tower r_precision={two.r_precision:.4f} ndcg20={two.ndcg20:.4f}")
    print(f"centroid r_precision={centroid.r_precision:.4f} ndcg20={centroid.ndcg20:.4f}")
    print(f"held-out sets {two.queries}, training sets {len(training)}, corpus {len(vectors)} tracks; "
          f"query tower {report.query_epochs} epochs (converged: {report.converged}), track tower "
          f"{report.item_epochs} epochs; {seconds:.1f} s on {args.device}")


if __name__ == "__main__":
    main()
