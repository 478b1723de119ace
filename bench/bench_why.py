"""How the why lines read on a station of a synthetic, musicnn-like catalogue, with no database.

    .venv/bin/python bench/bench_why.py

Eight genres of 375 tracks each, tagged with Million Song Dataset labels the way musicnn tags real music: a few
labels ("instrumental", "ambient", "electronic") come out fairly high on most genres, orchestral music included
(as musicnn does on real soundtracks), and each genre has labels of its own. Vectors cluster by genre and, inside
a genre, by sub-style, so a thumbed-down track has near neighbours as on a real station.

A station of three orchestral seeds is ranked, then ranked again after thumbs down on its first two results.
Prints, as JSON: how many of the 20 lines carry the page's most frequent tag (and which), how many lines mention
a dislike after the two thumbs, whether the first one does, and a few lines of each page.

Before the tags were chosen by lift (3 tags a line by raw probability): "instrumental" on 19 of 20 lines,
"ambient" or "electronic" on 18; after two thumbs down 10 of 20 lines said "close to one you turned down".
After (2 tags a line by lift, repeats discounted): the most frequent tag on 8 of 20, "ambient"/"electronic" on
none; no line mentions a dislike after the two thumbs.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from discovery.engine.profile import build_anchors  # noqa: E402
from discovery.engine.ranking import RankingInput, rank_candidates, throughline_vector  # noqa: E402

DIM = 200
PER_GENRE = 375
SUB_STYLES = 5
TAGS_KEPT = 8  # as embedding/vector_index.py keeps them
CORPUS_SAMPLE = 2000
# Typical MSD-musicnn probabilities per genre; every other label gets 0.002–0.03.
GENRES = {
    "orchestral": {"instrumental": 0.25, "ambient": 0.2, "jazz": 0.14, "electronic": 0.12, "oldies": 0.08,
                   "beautiful": 0.08, "Progressive rock": 0.07, "experimental": 0.06},
    "electronic": {"electronic": 0.5, "dance": 0.28, "House": 0.25, "electro": 0.25, "instrumental": 0.12,
                   "ambient": 0.1},
    "ambient": {"ambient": 0.4, "instrumental": 0.25, "electronic": 0.25, "chillout": 0.2, "chill": 0.18,
                "electronica": 0.15},
    "rock": {"rock": 0.5, "guitar": 0.2, "classic rock": 0.2, "hard rock": 0.15, "alternative": 0.15,
             "electronic": 0.05},
    "folk": {"folk": 0.35, "acoustic": 0.3, "country": 0.15, "Mellow": 0.15, "instrumental": 0.1, "ambient": 0.06},
    "jazz": {"jazz": 0.45, "instrumental": 0.2, "easy listening": 0.2, "soul": 0.15, "blues": 0.15,
             "ambient": 0.1, "electronic": 0.06},
    "hip-hop": {"Hip-Hop": 0.5, "rnb": 0.2, "dance": 0.15, "electronic": 0.15, "party": 0.1},
    "metal": {"metal": 0.45, "heavy metal": 0.35, "hard rock": 0.3, "rock": 0.3},
}
LABELS = sorted({tag for profile in GENRES.values() for tag in profile} | {"sad", "happy", "catchy", "sexy", "70s"})


def catalogue(seed: int = 0):
    """(vectors (N, DIM) unit rows, genre of each track, tags of each track cut to TAGS_KEPT, full tags)."""
    rng = np.random.default_rng(seed)
    common = rng.normal(size=DIM)
    vectors, genres, full_tags = [], [], []
    for genre, profile in GENRES.items():
        centre = rng.normal(size=DIM)
        subs = rng.normal(size=(SUB_STYLES, DIM))
        for i in range(PER_GENRE):
            vectors.append(1.2 * common + 0.9 * centre + 0.45 * subs[i % SUB_STYLES] + 0.5 * rng.normal(size=DIM))
            genres.append(genre)
            base = np.array([profile.get(tag, rng.uniform(0.002, 0.03)) for tag in LABELS])
            noisy = np.clip(base * rng.lognormal(0.0, 0.35, size=len(LABELS)), 0.0, 1.0)
            full_tags.append(dict(zip(LABELS, noisy.tolist())))
    vectors = np.array(vectors)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    kept = [dict(sorted(tags.items(), key=lambda item: -item[1])[:TAGS_KEPT]) for tags in full_tags]
    return vectors, genres, kept, full_tags


def page(vectors, kept_tags, tag_means, seeds, dislikes=(), explore=0.2):
    anchors = build_anchors(seeds, vectors[seeds], [3600.0] * len(seeds), [], None, [])
    throughline = throughline_vector(vectors[seeds])
    # As station_candidates: the 200 nearest to the throughline and the 40 nearest to each anchor.
    nearest = list(np.argsort(-(vectors @ throughline))[:200])
    for seed in seeds:
        nearest += list(np.argsort(-(vectors @ vectors[seed]))[:40])
    ids = list(dict.fromkeys(int(i) for i in nearest))
    options = dict(
        candidate_ids=ids,
        candidate_vectors=vectors[ids],
        candidate_artists=[f"artist{i // 3}" for i in ids],
        candidate_tags=[kept_tags[i] for i in ids],
        anchors=anchors,
        anchor_titles=[f"Seed {i}" for i in seeds],
        anchor_tags=[kept_tags[i] for i in seeds],
        throughline=throughline,
        disliked_vectors=vectors[list(dislikes)] if dislikes else None,
        seed_ids=seeds,
        thumbed_ids=list(dislikes),
        explore=explore,
        near_duplicate_cosine=0.99,
        corpus_sample=vectors[np.random.default_rng(1).choice(len(vectors), CORPUS_SAMPLE, replace=False)],
        tag_means=tag_means,
    )
    return rank_candidates(RankingInput(**options))


def figures(results, genres) -> dict:
    tag_counts = Counter(tag for result in results for tag in result.shared_tags)
    top_tag, top_count = tag_counts.most_common(1)[0] if tag_counts else ("", 0)
    mentions = [result.why for result in results if "turned down" in result.why]
    return {
        "lines": len(results),
        "most_frequent_tag": top_tag,
        "lines_with_most_frequent_tag": top_count,
        "lines_with_ambient_or_electronic": sum(
            1 for result in results if {"ambient", "electronic"} & set(result.shared_tags)
        ),
        "lines_with_tags": sum(1 for result in results if result.shared_tags),
        "lines_mentioning_a_dislike": len(mentions),
        "first_line_mentions_a_dislike": bool(results and "turned down" in results[0].why),
        "orchestral_results": sum(1 for result in results if genres[result.track_id] == "orchestral"),
        "sample_lines": [result.why for result in results[:3]] + [result.why for result in results[-2:]],
    }


def main() -> None:
    vectors, genres, kept_tags, full_tags = catalogue()
    sample = np.random.default_rng(1).choice(len(vectors), CORPUS_SAMPLE, replace=False)
    tag_means = {tag: float(np.mean([full_tags[i].get(tag, 0.0) for i in sample])) for tag in LABELS}
    seeds = [0, 1, 7]  # three orchestral tracks from three sub-styles
    first = page(vectors, kept_tags, tag_means, seeds)
    dislikes = [first[0].track_id, first[1].track_id]
    after = page(vectors, kept_tags, tag_means, seeds, dislikes)
    same_genre = np.array(genres) == "orchestral"
    inside = vectors[same_genre] @ vectors[0]
    outside = vectors[~same_genre] @ vectors[0]
    print(
        json.dumps(
            {
                "cosine_to_a_seed": {"same_genre_median": round(float(np.median(inside)), 3),
                                     "other_genres_median": round(float(np.median(outside)), 3)},
                "catalogue_means": {tag: round(tag_means[tag], 3) for tag in ("instrumental", "ambient", "electronic",
                                                                              "jazz", "beautiful", "experimental")},
                "before_thumbs": figures(first, genres),
                "after_two_thumbs_down": figures(after, genres),
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
