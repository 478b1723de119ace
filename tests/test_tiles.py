"""Tiles drawn from vectors (embedding/tiles.py): deterministic, alike for near vectors, unlike for far ones."""

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from embedding.tiles import NEUTRAL, TileParameters, projection, tile_parameters, tile_svg
from tests.vectors import random_unit_vectors

DIM = 200  # musicnn's


def circular_gap(a: float, b: float) -> float:
    gap = abs(a - b) % 360.0
    return min(gap, 360.0 - gap)


def distance(a: TileParameters, b: TileParameters) -> float:
    """How different two tiles look, each parameter scaled to its range (hues and angles round the circle)."""
    return math.sqrt(
        (circular_gap(a.hue, b.hue) / 180) ** 2
        + (circular_gap(a.angle, b.angle) / 180) ** 2
        + ((a.hue_shift - b.hue_shift) / 60) ** 2
        + ((a.cx - b.cx) / 60) ** 2
        + ((a.cy - b.cy) / 60) ** 2
        + ((a.radius - b.radius) / 26) ** 2
        + ((a.lightness - b.lightness) / 0.2) ** 2
    )


def nudged(vector: np.ndarray, amount: float, seed: int) -> np.ndarray:
    moved = vector + amount * np.random.default_rng(seed).normal(size=vector.shape) / math.sqrt(vector.size)
    return moved / np.linalg.norm(moved)


class TestTileParameters:
    def test_the_same_vector_always_draws_the_same_tile(self):
        vector = random_unit_vectors(1, DIM, seed=1)[0]
        assert tile_parameters(vector) == tile_parameters(vector.copy())
        assert tile_svg(tile_parameters(vector)) == tile_svg(tile_parameters(vector.copy()))
        assert np.array_equal(projection(DIM), np.random.default_rng([20261202, DIM]).standard_normal((DIM, 10)))

    def test_near_vectors_get_similar_tiles_and_far_vectors_different_ones(self):
        bases = random_unit_vectors(200, DIM, seed=2)
        others = random_unit_vectors(200, DIM, seed=3)
        near = [distance(tile_parameters(v), tile_parameters(nudged(v, 0.05, i))) for i, v in enumerate(bases)]
        far = [distance(tile_parameters(v), tile_parameters(w)) for v, w in zip(bases, others)]
        assert np.median(near) < 0.1 < 0.8 < np.median(far)
        assert np.percentile(near, 95) < np.percentile(far, 5)
        hue_gaps = [circular_gap(tile_parameters(v).hue, tile_parameters(nudged(v, 0.05, i)).hue)
                    for i, v in enumerate(bases)]
        assert np.percentile(hue_gaps, 90) < 10.0

    def test_tiles_grow_apart_as_vectors_do(self):
        base = random_unit_vectors(1, DIM, seed=4)[0]
        gaps = [np.mean([distance(tile_parameters(base), tile_parameters(nudged(base, amount, seed)))
                         for seed in range(40)]) for amount in (0.02, 0.1, 0.5, 2.0)]
        assert gaps == sorted(gaps) and gaps[0] < 0.1 * gaps[-1]

    def test_hues_spread_round_the_whole_circle_over_a_catalogue(self):
        hues = np.array([tile_parameters(v).hue for v in random_unit_vectors(500, DIM, seed=5)])
        counts, _ = np.histogram(hues, bins=6, range=(0, 360))
        assert counts.min() > 50  # each sixth of the circle holds a fair share of 500

    def test_centring_on_the_catalogue_separates_vectors_that_share_a_common_part(self):
        # Real models' vectors share a large common direction; without centring their tiles would look alike.
        common = random_unit_vectors(1, DIM, seed=6)[0]
        catalogue = np.array([nudged(common, 0.5, seed) for seed in range(300)])  # cosine 0.9 to it
        centre = catalogue.mean(axis=0)
        raw = np.array([tile_parameters(v).hue for v in catalogue])
        centred = np.array([tile_parameters(v, centre).hue for v in catalogue])

        def spread(hues):  # 1 − the length of the mean unit vector of the hues: 0 all alike, 1 evenly spread
            angles = np.radians(hues)
            return 1 - math.hypot(np.cos(angles).mean(), np.sin(angles).mean())

        assert spread(raw) < 0.2 and spread(centred) > 0.8

    @pytest.mark.parametrize("vector", [np.zeros(DIM), np.full(DIM, np.nan)], ids=["zero", "nan"])
    def test_a_vector_without_direction_gets_the_neutral_tile(self, vector):
        assert tile_parameters(vector) == NEUTRAL

    def test_the_vector_equal_to_the_centre_gets_the_neutral_tile(self):
        vector = random_unit_vectors(1, DIM, seed=7)[0]
        assert tile_parameters(vector, centre=vector) == NEUTRAL

    def test_parameters_stay_in_their_ranges(self):
        for vector in random_unit_vectors(300, 32, seed=8):
            p = tile_parameters(vector)
            assert 0 <= p.hue < 360 and 0 <= p.angle < 360 and 40 <= p.hue_shift <= 100
            assert 20 <= p.cx <= 80 and 20 <= p.cy <= 80 and 12 <= p.radius <= 38 and 1 <= p.rings <= 4
            assert 0.36 <= p.lightness <= 0.56


class TestTileSvg:
    def test_it_is_a_well_formed_svg_of_the_asked_size_with_one_ring_per_ring(self):
        params = tile_parameters(random_unit_vectors(1, DIM, seed=9)[0])
        root = ET.fromstring(tile_svg(params, pixels=320))
        ns = "{http://www.w3.org/2000/svg}"
        assert root.tag == f"{ns}svg" and root.get("width") == "320" and root.get("viewBox") == "0 0 100 100"
        assert len(root.findall(f"{ns}g/{ns}circle")) == params.rings

    def test_the_neutral_tile_is_grey(self):
        stops = ET.fromstring(tile_svg(NEUTRAL)).iter("{http://www.w3.org/2000/svg}stop")
        for stop in stops:
            colour = stop.get("stop-color")
            assert colour[1:3] == colour[3:5] == colour[5:7]
