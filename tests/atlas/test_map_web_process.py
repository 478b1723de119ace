"""The map's pages never bring umap, numba or torch into the web process: they are the worker's."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

PROBE = """
import sys
from discovery.wsgi import application
from django.urls import get_resolver

def walk(patterns):
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            walk(pattern.url_patterns)
        else:
            pattern.callback  # imports the view's module
walk(get_resolver().url_patterns)
import discovery.atlas.views, discovery.atlas.services, taste.stations.constellations  # noqa
print(sorted(name for name in ("umap", "numba", "torch", "pynndescent") if name in sys.modules))
"""


def test_the_map_and_path_views_import_no_umap_numba_or_torch():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "discovery.settings", "HOME": str(Path.home())},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
