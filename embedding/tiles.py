"""Tiles for tracks without artwork: a small SVG drawn from the track's vector, so tracks that sound alike
look alike.

The vector is centred on the catalogue's mean (every model's vectors share a large common component, which
would give every tile the same colour) and projected by a fixed, seeded Gaussian matrix onto a few
components. For unit directions these components are standard normal, and two directions that differ by a
small angle get components that differ by about that angle (a random projection keeps distances). The
components then set, continuously: the main hue and the gradient's direction (each the angle of a pair of
components, so they spread evenly round the circle), the second colour's distance from the first, the
position and size of a disc, the number of rings round it, and the lightness.

Pure NumPy and the standard library: the same vector always draws the same tile, byte for byte.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

PROJECTION_SEED = 20261202  # fixed forever: changing it redraws every tile
COMPONENTS = 10
SATURATION = 0.55


@dataclass(frozen=True)
class TileParameters:
    hue: float  # degrees, [0, 360): the main colour
    hue_shift: float  # degrees, [40, 100]: how far round the circle the second colour lies
    angle: float  # degrees, [0, 360): the gradient's direction
    cx: float  # the disc's centre, in a 100 × 100 tile: [20, 80]
    cy: float
    radius: float  # [12, 38]
    rings: int  # 1 to 4 rings round the disc
    lightness: float  # [0.36, 0.56]
    saturation: float = SATURATION  # 0 for the neutral tile of a track not heard yet


# The tile of a track that has no vector yet: grey, the same for all, so it says "not heard yet".
NEUTRAL = TileParameters(
    hue=210.0, hue_shift=0.0, angle=135.0, cx=50.0, cy=50.0, radius=22.0, rings=2, lightness=0.42, saturation=0.0
)


@lru_cache(maxsize=8)
def projection(dim: int) -> np.ndarray:
    """The fixed (dim, COMPONENTS) Gaussian projection for vectors of `dim` dimensions."""
    matrix = np.random.default_rng([PROJECTION_SEED, dim]).standard_normal((dim, COMPONENTS))
    matrix.setflags(write=False)
    return matrix


def _unit_interval(z: float) -> float:
    """The standard normal CDF: a component spread as N(0, 1) becomes one spread evenly over [0, 1]."""
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def _degrees(y: float, x: float) -> float:
    return math.degrees(math.atan2(y, x)) % 360.0


def tile_parameters(vector, centre=None) -> TileParameters:
    """The tile of `vector` (1-d, any length), centred on `centre` (the catalogue's mean, same length) if
    given. A vector with no direction left (zero, or equal to the centre) gets the NEUTRAL tile."""
    v = np.asarray(vector, dtype=np.float64).ravel()
    if centre is not None:
        v = v - np.asarray(centre, dtype=np.float64).ravel()
    norm = float(np.linalg.norm(v))
    if not math.isfinite(norm) or norm < 1e-9:
        return NEUTRAL
    z = (v / norm) @ projection(v.shape[0])
    return TileParameters(
        hue=round(_degrees(z[0], z[1]), 2),
        # Narrower than the hue itself: the main hue says which sound this is, the second colour only varies it.
        hue_shift=round(40.0 + 60.0 * _unit_interval(z[2]), 2),
        angle=round(_degrees(z[3], z[4]), 2),
        cx=round(20.0 + 60.0 * _unit_interval(z[5]), 2),
        cy=round(20.0 + 60.0 * _unit_interval(z[6]), 2),
        radius=round(12.0 + 26.0 * _unit_interval(z[7]), 2),
        rings=1 + min(3, int(4.0 * _unit_interval(z[8]))),
        lightness=round(0.36 + 0.20 * _unit_interval(z[9]), 3),
    )


def _colour(hue: float, lightness: float, saturation: float) -> str:
    red, green, blue = colorsys.hls_to_rgb((hue % 360.0) / 360.0, min(max(lightness, 0.0), 1.0), saturation)
    return f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"


def tile_svg(params: TileParameters, pixels: int = 96) -> str:
    """The tile as a standalone SVG document, `pixels` wide and high (it scales to any size)."""
    p = params
    first = _colour(p.hue, p.lightness, p.saturation)
    second = _colour(p.hue + p.hue_shift, p.lightness - 0.14, p.saturation)
    disc = _colour(p.hue - p.hue_shift / 2, p.lightness + 0.16, p.saturation)
    ring = _colour(p.hue + p.hue_shift, p.lightness + 0.32, p.saturation * 0.6)
    rings = "".join(
        f'<circle cx="{p.cx}" cy="{p.cy}" r="{round(p.radius * (1 + 0.45 * (k + 1)), 2)}"/>' for k in range(p.rings)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" width="{pixels}" height="{pixels}">'
        f'<defs><linearGradient id="g" gradientTransform="rotate({p.angle} .5 .5)">'
        f'<stop offset="0" stop-color="{first}"/><stop offset="1" stop-color="{second}"/></linearGradient></defs>'
        f'<rect width="100" height="100" fill="url(#g)"/>'
        f'<g fill="none" stroke="{ring}" stroke-opacity=".5" stroke-width="2.5">{rings}</g>'
        f'<circle cx="{p.cx}" cy="{p.cy}" r="{p.radius}" fill="{disc}" fill-opacity=".85"/>'
        "</svg>"
    )
