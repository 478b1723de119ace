"""The station's list draws its icons as CSS masks (static/icons/*.svg via static/css/player.css): each file must
draw what the sprite's symbol draws (templates/partials/icons.html), so that the list and the rest of the site
show the same icons."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPRITE = (ROOT / "templates/partials/icons.html").read_text()
CSS = (ROOT / "static/css/player.css").read_text()
MASKED = sorted(re.findall(r'\.i-([a-z-]+) \{ --icon: url\("\.\./icons/\1\.svg"\); \}', CSS))


def test_the_list_uses_masks_for_its_icons():
    assert MASKED == ["down", "play", "seed", "sliders", "up"]


@pytest.mark.parametrize("name", MASKED)
def test_each_mask_is_the_sprites_symbol(name):
    symbol = re.search(rf'<symbol id="i-{name}" viewBox="([^"]+)">(.*?)</symbol>', SPRITE, re.S)
    mask = re.fullmatch(r'<svg xmlns="http://www.w3.org/2000/svg" viewBox="([^"]+)">(.*)</svg>\n',
                        (ROOT / f"static/icons/{name}.svg").read_text(), re.S)
    assert mask and symbol, name
    # A mask draws with its alpha: the sprite's currentColor is plain black there.
    assert (mask.group(1), mask.group(2)) == (symbol.group(1), symbol.group(2).replace("currentColor", "#000"))
