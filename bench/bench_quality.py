"""Does our own model hear better? Same-soundtrack retrieval, excerpt twins and isotropy, per model.

    .venv/bin/python bench/bench_quality.py --corpus DIR [--keep-data DIR] [--max-tracks N] [--epochs N]
        [--max-minutes M] [--no-split] [--no-ablation] [--device cpu]

DIR is a corpus laid out as the Debian soundtrack corpus builder writes it: <package>/<file> and manifest.csv, whose
`package` column is the label (rows whose `content` is not "music" are left out). Everything goes through the
project's own paths on a data directory of its own (its own embedded PostgreSQL; `--keep-data DIR` keeps it
and reuses what is already there): the music is hard-linked into a library folder per package and read with
`ingest_folder`, embedded with `embed --sync`, our model trained with `train_embedder` (on the library's
folders only), and two disjoint 30-s excerpts (AAC, like previews) of every track of at least 100 s are read
in as tracks of their own once training is done.

Per model, printed as one Markdown table per run:
- P@10: same-soundtrack precision at 10 among the full tracks, the query left out; queries whose package has
  no other track are skipped.
- twin top-1 / MRR: each excerpt A ranks all excerpts B; does it find its own B first, and how high.
- mean cos, PR: mean pairwise cosine of the full tracks (0 for an isotropic space) and the participation
  ratio of their covariance spectrum, (sum λ)² / sum λ² (how many directions the space really uses).

Baselines: musicnn, musicnn whitened by PCA fitted on the library (on the training half in the split run),
spectral, and chance. The transductive run trains on the whole library; the split run trains on half the
packages and scores on the other half only; the ablation trains without each loss term in turn (on the
kept segment features, in this process: see `ablation`).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus_clips import _read_excerpt, write_m4a  # noqa: E402

EXCERPT_S = 30.0
TWIN_MIN_S = 100.0
LIBRARY_WHITENING = {"base_whitening": "library", "whiten_shrinkage": 0.2, "out_dim": 200}  # the base before
ABLATIONS = {
    "wavelength-no-masked": {"w_masked": 0.0},
    "wavelength-no-contrast": {"w_contrast": 0.0},
    "wavelength-no-uniformity": {"w_uniformity": 0.0},
    "wavelength-vicreg": {"w_uniformity": 0.0, "w_variance": 1.0, "w_covariance": 0.04},
    "wavelength-neighbours (NNCLR, 5 nearest)": {"w_neighbour": 1.0, "neighbour_k": 5},
    "wavelength-mean-pooling": {"pooling": "mean"},
    "wavelength-no-base (the Transformer alone)": {"whitened_base": False},
    "wavelength-60-epochs": {"epochs": 60},
    "wavelength-penultimate (no channel means)": {"feature_dim": 200, "out_dim": 200},
    "wavelength-library-whitening (the base whitens all segments, 200 axes, shrinkage 0.2)": LIBRARY_WHITENING,
    "wavelength-learning-rate-1e-3": {"learning_rate": 1e-3},
    "wavelength-learning-rate-3e-4": {"learning_rate": 3e-4},
}
# The untrained bases: (name, config overrides).
BASES_ALONE = [
    ("the whitened base alone (no training)", {}),
    ("the base alone, whitening all segments (no training)", LIBRARY_WHITENING),
    ("the base alone, penultimate layer only, whitening all segments (no training)",
     {**LIBRARY_WHITENING, "feature_dim": 200}),
]


def read_manifest(corpus: Path, max_tracks: int | None, seed: int = 0) -> list[dict]:
    with open(corpus / "manifest.csv", newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("content", "music") == "music"]
    rows.sort(key=lambda row: row["path"])
    if max_tracks and len(rows) > max_tracks:
        # Whole packages stay together, so each keeps the tracks it can be recognised by.
        by_package = defaultdict(list)
        for row in rows:
            by_package[row["package"]].append(row)
        packages = sorted(by_package)
        random.Random(seed).shuffle(packages)
        chosen = []
        for package in packages:
            if len(chosen) + len(by_package[package]) <= max_tracks:
                chosen.extend(by_package[package])
        rows = sorted(chosen, key=lambda row: row["path"])
    return rows


def link_library(corpus: Path, rows: list[dict], library: Path) -> dict[str, dict]:
    """Each track hard-linked (or copied) into library/<package>/; returns the library path -> manifest row."""
    placed = {}
    for row in rows:
        source = corpus / row["path"]
        target = library / row["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            try:
                os.link(source, target)
            except OSError:
                shutil.copyfile(source, target)
        placed[str(target.resolve())] = row
    return placed


def write_excerpts(library_rows: dict[str, dict], excerpts: Path) -> dict[str, tuple[str, str]]:
    """Two disjoint 30-s excerpts of each track of at least 100 s: excerpt path -> (source path, "a" or "b")."""
    made = {}
    for path, row in library_rows.items():
        duration = float(row["duration_s"])
        if duration < TWIN_MIN_S:
            continue
        stem = (excerpts / row["path"]).with_suffix("")
        for side, start in (("a", 0.2 * duration), ("b", 0.6 * duration)):  # 0.4 * 100 s apart: disjoint
            target = stem.with_name(f"{stem.name}.{side}.m4a")
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                write_m4a(_read_excerpt(Path(path), start, EXCERPT_S), target)
            made[str(target.resolve())] = (path, side)
    return made


def setup_django(data_dir: Path) -> None:
    os.environ.update({"WAVELENGTH_DATA": str(data_dir), "DJANGO_SETTINGS_MODULE": "discovery.settings"})
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def vectors_of(model_name: str) -> dict[str, np.ndarray]:
    from embedding.models import TrackEmbedding

    rows = TrackEmbedding.objects.filter(model__name=model_name).values_list("track__source_key", "vector")
    return {str(Path(key).resolve()): np.asarray(vector, dtype=np.float32) for key, vector in rows}


def timed_embed(model: str, paths: list[str], device: str) -> float:
    """Embeds the tracks at `paths` with `model` (those it lacks); returns tracks per second, 0 if none."""
    from django.core.management import call_command

    from tracks.models import Track

    keys = {str(Path(p)) for p in paths}
    done = set(vectors_of(model))
    ids = [pk for pk, key in Track.objects.values_list("pk", "source_key") if key in keys and key not in done]
    if not ids:
        return 0.0
    started = time.perf_counter()
    call_command("embed", "--model", model, "--sync", "--device", device, "--track", *map(str, ids))
    return len(ids) / (time.perf_counter() - started)


WHITEN_COMPONENTS = 32


def pca_whitener(train: np.ndarray, components: int = WHITEN_COMPONENTS):
    """x -> unit rows of x centred, projected on the top `components` principal axes of `train`, whitened.

    32 axes: on the dev corpus (356 tracks) musicnn's P@10 whitened was 0.292, 0.300, 0.315, 0.312, 0.300 and
    0.270 at 8, 16, 24, 32, 64 and 128 axes, and 0.207 with all 200 (the smallest axes are noise, and whitening
    blows them up). 32 is near the best without being tuned on the labels.
    """
    mean = train.mean(axis=0)
    _, s, vt = np.linalg.svd(train - mean, full_matrices=False)
    k = min(components, len(s))
    basis = vt[:k].T / (s[:k] / np.sqrt(max(len(train) - 1, 1)))

    def whiten(x: np.ndarray) -> np.ndarray:
        y = (x - mean) @ basis
        return y / np.linalg.norm(y, axis=1, keepdims=True)

    return whiten


def precision_at_10(vectors: np.ndarray, labels: list[str]) -> float:
    labels = np.asarray(labels)
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    counts = {label: int((labels == label).sum()) for label in set(labels)}
    scores = []
    for i in range(len(vectors)):
        if counts[labels[i]] < 2:
            continue
        top = np.argsort(-similarity[i])[:10]
        scores.append(float(np.mean(labels[top] == labels[i])))
    return float(np.mean(scores)) if scores else float("nan")


def chance_precision(labels: list[str]) -> float:
    labels = np.asarray(labels)
    n = len(labels)
    counts = {label: int((labels == label).sum()) for label in set(labels)}
    return float(np.mean([(counts[label] - 1) / (n - 1) for label in labels if counts[label] >= 2]))


def twin_scores(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    similarity = a @ b.T
    ranks = (similarity > np.diag(similarity)[:, None]).sum(axis=1) + 1
    return float(np.mean(ranks == 1)), float(np.mean(1.0 / ranks))


def isotropy(vectors: np.ndarray) -> tuple[float, float]:
    n = len(vectors)
    gram = vectors @ vectors.T
    mean_cos = float((gram.sum() - np.trace(gram)) / (n * (n - 1)))
    eigen = np.clip(np.linalg.eigvalsh(np.cov(vectors.T)), 0, None)
    return mean_cos, float(eigen.sum() ** 2 / (eigen**2).sum())


def score(name, full: dict[str, np.ndarray], twins: dict, scope: set[str], rows: dict, transform=None) -> dict:
    """The metrics of one model over the library tracks in `scope` and the twins of those tracks."""
    keys = sorted(k for k in scope if k in full)
    if len(keys) < 3:
        return {"model": name, "tracks": len(keys)}
    x = np.stack([full[k] for k in keys])
    pairs = [(a, b) for a, b in twins.values() if a in full and b in full]
    if transform is not None:
        x = transform(x)
    labels = [rows[k]["package"] for k in keys]
    result = {"model": name, "tracks": len(keys), "p10": precision_at_10(x, labels)}
    if pairs:
        a = np.stack([full[p[0]] for p in pairs])
        b = np.stack([full[p[1]] for p in pairs])
        if transform is not None:
            a, b = transform(a), transform(b)
        result["twin_top1"], result["twin_mrr"] = twin_scores(a, b)
        result["twins"] = len(pairs)
    result["mean_cos"], result["pr"] = isotropy(x)
    return result


def chance_row(scope: set[str], rows: dict, twins: int) -> dict:
    labels = [rows[k]["package"] for k in sorted(scope)]
    harmonic = sum(1 / r for r in range(1, twins + 1)) / twins if twins else float("nan")
    return {
        "model": "chance",
        "tracks": len(labels),
        "p10": chance_precision(labels),
        "twin_top1": 1 / twins if twins else float("nan"),
        "twin_mrr": harmonic,
        "twins": twins,
    }


def table(title: str, results: list[dict]) -> str:
    lines = [
        f"**{title}**",
        "",
        "| model | tracks | P@10 | twin top-1 | twin MRR | twins | mean cos | PR |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def cell(row, key, fmt="{:.3f}"):
        value = row.get(key)
        return "—" if value is None or (isinstance(value, float) and np.isnan(value)) else fmt.format(value)

    for row in results:
        lines.append(
            f"| {row['model']} | {row['tracks']} | {cell(row, 'p10')} | {cell(row, 'twin_top1')} | "
            f"{cell(row, 'twin_mrr')} | {cell(row, 'twins', '{}')} | {cell(row, 'mean_cos')} | "
            f"{cell(row, 'pr', '{:.1f}')} |"
        )
    return "\n".join(lines)


def train(name: str, folders: list[Path], args, config: dict | None = None) -> dict:
    """train_embedder NAME on `folders`, unless a finished checkpoint of it is already there (--keep-data)."""
    from django.core.management import call_command

    from embedding.models import TrackEmbedding
    from embedding.wavelength import checkpoint_path
    from embedding.wavelength_training import CheckpointError, read_checkpoint

    try:
        summary = read_checkpoint(checkpoint_path(name))["summary"]
        if summary["stopped"] in ("finished", "time budget") and not args.retrain:
            return summary
    except CheckpointError:
        pass
    options = ["--name", name, "--device", args.device, "--seed", str(args.seed), "--fresh"]
    options += [item for folder in folders for item in ("--folder", str(folder))]
    if args.epochs:
        options += ["--epochs", str(args.epochs)]
    if args.max_minutes:
        options += ["--max-minutes", str(args.max_minutes)]
    if config:
        options += ["--config", json.dumps(config)]
    call_command("train_embedder", *options)
    # Vectors made by an earlier checkpoint of this name (a kept data directory) are not this model's.
    TrackEmbedding.objects.filter(model__name=name).delete()
    return read_checkpoint(checkpoint_path(name))["summary"]


def ablation(rows: dict, twins: dict, args) -> list[dict]:
    """The default config and each variant of ABLATIONS trained on the kept segment features and scored.

    The library's and the excerpts' files are decoded once and their features read from the segment store, and
    each variant is trained and applied in this process (embedding.wavelength_training), not through
    train_embedder and embed, which would decode everything again per variant; the model, features and
    training code are the same.
    """
    import dataclasses

    import torch

    from embedding.training import model_config
    from embedding.wavelength import SegmentFeatures, features_read
    from embedding.wavelength_network import Wavelength
    from embedding.wavelength_training import build_model, read_checkpoint
    from embedding.wavelength_training import train as train_features
    from tracks.audio import AudioDecodeError, decode_many

    torch.set_num_threads(1)
    segments = SegmentFeatures(device=args.device)
    paths = [*rows, *[p for pair in twins.values() for p in pair]]
    features = {}
    for path, result in decode_many(paths, segments.musicnn.sample_rate):
        if not isinstance(result, AudioDecodeError):
            features[str(path)] = segments([result.samples])[0]
    library_keys = sorted(k for k in rows if k in features)
    results = []

    def read_by(config, keys) -> list[np.ndarray]:
        return [features_read(features[k], config.feature_dim) for k in keys]

    def vectors_by(model) -> dict[str, np.ndarray]:
        with torch.no_grad():
            read = read_by(model.config, features)
            return {k: model.embed_track(torch.from_numpy(f)).numpy() for k, f in zip(features, read)}

    # Where training starts: the base fitted on the library, the Transformer's part still zero.
    for name, overrides in BASES_ALONE:
        config = model_config("cpu", None, overrides)
        untrained = Wavelength(config)
        library = read_by(config, library_keys)
        untrained.fit_feature_scale(torch.from_numpy(np.concatenate(library)), [len(f) for f in library])
        results.append(score(name, vectors_by(untrained.eval()), twins, set(rows), rows))
    variants = {"wavelength (all terms)": {}, **ABLATIONS}
    for name, overrides in variants.items():
        config = dataclasses.replace(model_config("cpu", args.ablation_epochs), **overrides)
        if config.whitened_base is False and "out_dim" not in overrides:
            config = dataclasses.replace(config, out_dim=128)  # as wavelength-1 was before the base
        path = Path(tempfile.mkdtemp(prefix="ablation-")) / "model.pt"
        summary = train_features(read_by(config, library_keys), config, path, seed=args.seed)
        row = score(name, vectors_by(build_model(read_checkpoint(path))), twins, set(rows), rows)
        row["train_s"] = summary["seconds"]
        results.append(row)
        shutil.rmtree(path.parent, ignore_errors=True)
        print(f"ablation {name}: {summary['seconds']:.0f} s", flush=True)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=os.environ.get("WAVELENGTH_BENCH_CORPUS"))
    parser.add_argument("--keep-data", type=Path, help="data directory to use and keep (reused if it exists)")
    parser.add_argument("--max-tracks", type=int, help="whole packages up to this many tracks (default: all)")
    parser.add_argument("--epochs", type=int, help="training epochs (default: the model config's)")
    parser.add_argument("--max-minutes", type=float, default=30.0, help="training budget per model")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-split", action="store_true")
    parser.add_argument("--no-ablation", action="store_true")
    parser.add_argument("--ablation-epochs", type=int, help="epochs per ablation variant (default: the config's)")
    parser.add_argument("--retrain", action="store_true", help="train again even where a checkpoint is kept")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args()
    if args.corpus is None or not (args.corpus / "manifest.csv").is_file():
        print("bench_quality: no corpus with a manifest.csv given (--corpus DIR or WAVELENGTH_BENCH_CORPUS); skipped.")
        return
    corpus = args.corpus.resolve()
    data = args.keep_data.resolve() if args.keep_data else Path(tempfile.mkdtemp(prefix="wavelength-quality-"))
    data.mkdir(parents=True, exist_ok=True)
    try:
        report = run(corpus, data, args)
    finally:
        if not args.keep_data:
            shutil.rmtree(data, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


def run(corpus: Path, data: Path, args) -> dict:
    setup_django(data)
    from django.core.management import call_command

    manifest = read_manifest(corpus, args.max_tracks, args.seed)
    library = data / "library"
    rows = link_library(corpus, manifest, library)
    packages = sorted({row["package"] for row in rows.values()})
    print(f"{len(rows)} tracks from {len(packages)} packages; data in {data}", flush=True)
    report: dict = {"tracks": len(rows), "packages": len(packages), "throughput": {}, "training": {}}

    started = time.perf_counter()
    call_command("ingest_folder", str(library), "--no-embed", verbosity=0)
    report["ingest_s"] = round(time.perf_counter() - started, 1)
    for model in ("musicnn", "spectral"):
        started = time.perf_counter()
        timed_embed(model, list(rows), args.device)
        report[f"embed_library_s_{model}"] = round(time.perf_counter() - started, 1)

    started = time.perf_counter()
    report["training"]["wavelength-1"] = train("wavelength-1", [library], args)
    report["train_wall_s_wavelength-1"] = round(time.perf_counter() - started, 1)

    rng = random.Random(args.seed)
    shuffled = packages[:]
    rng.shuffle(shuffled)
    train_half, test_half = set(shuffled[: len(shuffled) // 2]), set(shuffled[len(shuffled) // 2 :])
    models = ["wavelength-1"]
    if not args.no_split:
        folders = [library / package for package in sorted(train_half)]
        report["training"]["wavelength-split"] = train("wavelength-split", folders, args)
        models.append("wavelength-split")

    excerpts = write_excerpts(rows, data / "excerpts")
    call_command("ingest_folder", str(data / "excerpts"), "--no-embed", verbosity=0)
    # Throughput on clips no model has seen: wavelength-1 first, while the excerpts' segment features are not
    # kept yet (musicnn keeps them as it embeds).
    for model in ("wavelength-1", "musicnn"):
        report["throughput"][model] = round(timed_embed(model, list(excerpts), args.device), 2)
    for model in ["musicnn", "spectral", *models]:
        timed_embed(model, [*rows, *excerpts], args.device)

    twins_by_source: dict[str, dict[str, str]] = defaultdict(dict)
    for path, (source, side) in excerpts.items():
        twins_by_source[source][side] = path
    twins = {s: (t["a"], t["b"]) for s, t in twins_by_source.items() if len(t) == 2}

    vectors = {model: vectors_of(model) for model in ["musicnn", "spectral", *models]}
    everything = set(rows)
    whiten_all = pca_whitener(np.stack([vectors["musicnn"][k] for k in sorted(everything) if k in vectors["musicnn"]]))
    transductive = [
        score("musicnn", vectors["musicnn"], twins, everything, rows),
        score("musicnn, PCA-whitened (32 axes)", vectors["musicnn"], twins, everything, rows, whiten_all),
        score("spectral", vectors["spectral"], twins, everything, rows),
        *[score(m, vectors[m], twins, everything, rows) for m in models if m != "wavelength-split"],
        chance_row(everything, rows, len(twins)),
    ]
    report["transductive"] = transductive
    print(table("Transductive: trained on the whole library, scored on it", transductive), flush=True)
    if not args.no_split:
        held_out = {k for k in rows if rows[k]["package"] in test_half}
        train_keys = sorted(k for k in rows if rows[k]["package"] in train_half and k in vectors["musicnn"])
        whiten_half = pca_whitener(np.stack([vectors["musicnn"][k] for k in train_keys]))
        held_twins = {s: pair for s, pair in twins.items() if s in held_out}
        split = [
            score("musicnn", vectors["musicnn"], held_twins, held_out, rows),
            score(
                "musicnn, PCA-whitened on the training half",
                vectors["musicnn"],
                held_twins,
                held_out,
                rows,
                whiten_half,
            ),
            score("spectral", vectors["spectral"], held_twins, held_out, rows),
            score("wavelength-split", vectors["wavelength-split"], held_twins, held_out, rows),
            score("wavelength-1 (transductive, for reference)", vectors["wavelength-1"], held_twins, held_out, rows),
            chance_row(held_out, rows, len(held_twins)),
        ]
        report["split"] = split
        report["split_packages"] = {"train": sorted(train_half), "test": sorted(test_half)}
        print(table(f"Split: trained on {len(train_half)} packages, scored on the other {len(test_half)}", split))
    if not args.no_ablation:
        report["ablation"] = ablation(rows, twins, args)
        print(
            table(
                f"Ablation: each loss term left out ({args.ablation_epochs or 'default'} epochs each, transductive)",
                report["ablation"],
            )
        )
    for name, summary in report["training"].items():
        print(
            f"{name}: {summary['epochs_done']}/{summary['epochs']} epochs on {summary['tracks']} tracks in "
            f"{summary['seconds']:.0f} s ({summary['stopped']}), best epoch {summary['best_epoch']}"
        )
        summary.pop("history", None)
        summary.get("about", {}).pop("track_ids", None)
    print("throughput (tracks/s on 30-s excerpts, features not cached):", report["throughput"])
    print(
        "wall time: ingest",
        report["ingest_s"],
        "s; musicnn on the library",
        report["embed_library_s_musicnn"],
        "s; training wavelength-1 (with its features)",
        report["train_wall_s_wavelength-1"],
        "s",
    )
    return report


if __name__ == "__main__":
    main()
