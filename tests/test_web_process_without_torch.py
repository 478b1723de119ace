"""The web process never imports torch, umap or numba: models, the map's projection and the recommender's training
run in workers and management commands only."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import sys
from discovery.wsgi import application
from django.urls import get_resolver
from django.contrib import admin
from django.test import Client

def walk(patterns):
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            walk(pattern.url_patterns)
        else:
            pattern.callback  # imports the view's module
walk(get_resolver().url_patterns)
admin.autodiscover()
for path in ["/", "/stations/", "/search/?q=x", "/admin/", "/accounts/login/", "/map/", "/path/"]:
    Client().get(path)
print(sorted(name for name in ("torch", "umap", "numba", "pynndescent") if name in sys.modules))
"""


def test_loading_every_view_and_serving_pages_imports_no_torch_umap_or_numba():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "discovery.settings", "HOME": str(Path.home())},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
