"""Export one model's vectors of a corpus that the site has ingested and embedded, for benchmarks that work on
plain arrays (bench/bench_sliders.py --vectors).

    WAVELENGTH_DATA=DATA .venv/bin/python manage.py ingest_folder CORPUS --no-embed
    WAVELENGTH_DATA=DATA .venv/bin/python manage.py embed --model musicnn --sync
    WAVELENGTH_DATA=DATA .venv/bin/python bench/export_corpus_vectors.py musicnn CORPUS OUT.npz

CORPUS is laid out as <package>/<file> (as the Debian soundtrack corpus builder writes it); a track's package is
its label. OUT.npz holds `ids`, `vectors` (unit rows), `packages`, `titles` and `paths` (relative to CORPUS) of
every canonical track below CORPUS.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("corpus", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "discovery.settings")
    import django

    django.setup()
    from embedding.models import EmbeddingModel, TrackEmbedding

    corpus = args.corpus.resolve()
    model = EmbeddingModel.objects.get(name=args.model)
    rows = TrackEmbedding.objects.filter(model=model, track__duplicate_of__isnull=True).select_related("track")
    ids, vectors, packages, titles, paths = [], [], [], [], []
    for row in rows.order_by("track_id"):
        try:
            relative = Path(row.track.audio_path).resolve().relative_to(corpus)
        except ValueError:  # a track from elsewhere in the catalogue
            continue
        ids.append(row.track_id)
        vectors.append(np.asarray(row.vector, dtype=np.float32))
        packages.append(relative.parts[0])
        titles.append(row.track.title)
        paths.append(str(relative))
    if not ids:
        raise SystemExit(f"No track of {corpus} has a {args.model} vector; ingest and embed it first.")
    stacked = np.stack(vectors)
    stacked /= np.linalg.norm(stacked, axis=1, keepdims=True)
    np.savez(args.out, ids=np.array(ids), vectors=stacked, packages=np.array(packages), titles=np.array(titles),
             paths=np.array(paths))
    print(f"{args.out}: {len(ids)} tracks × {stacked.shape[1]} dimensions, {len(set(packages))} packages")


if __name__ == "__main__":
    main()
