"""The map's binary payload: 12 bytes a point, columns the browser views in place, coordinates within a step."""

import numpy as np
import pytest

from discovery.atlas.payload import BYTES_PER_POINT, NO_ALBUM, NO_TAG, bounds_of, decode_points, encode_points


def test_it_packs_twelve_bytes_a_point_and_decodes_to_within_a_step():
    rng = np.random.default_rng(0)
    xy = rng.normal(size=(1000, 2)) * 7
    ids = rng.choice(2**31, size=1000, replace=False)
    bounds = bounds_of(xy)
    data = encode_points(ids, xy, np.arange(1000) % 300, np.arange(1000) % 40, bounds)
    assert len(data) == 1000 * BYTES_PER_POINT
    back = decode_points(data, bounds)
    assert (back["ids"] == ids).all()
    step = (bounds[2] - bounds[0]) / 65535
    assert np.abs(back["x"] - xy[:, 0]).max() <= step and np.abs(back["y"] - xy[:, 1]).max() <= step
    assert (back["album"] == np.arange(1000) % 300).all() and (back["tag"] == np.arange(1000) % 40).all()


def test_the_bounds_are_square_so_the_map_keeps_its_shape():
    x0, y0, x1, y1 = bounds_of(np.array([[0.0, 0.0], [10.0, 2.0]]))
    assert x1 - x0 == pytest.approx(y1 - y0) and x0 < 0 < 10 < x1


def test_indexes_beyond_their_width_mean_none():
    data = encode_points([1, 2], [[0, 0], [1, 1]], [70000, 3], [300, 4], (0, 0, 1, 1))
    back = decode_points(data, (0, 0, 1, 1))
    assert list(back["album"]) == [NO_ALBUM, 3] and list(back["tag"]) == [NO_TAG, 4]


def test_a_cut_payload_is_refused():
    with pytest.raises(ValueError, match="12-byte"):
        decode_points(b"\0" * 13, (0, 0, 1, 1))
