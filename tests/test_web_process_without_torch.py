"""The web process never imports torch: models run in workers and management commands only."""

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
for path in ["/", "/stations/", "/search/?q=x", "/admin/", "/accounts/login/"]:
    Client().get(path)
print("torch" in sys.modules)
"""


def test_loading_every_view_and_serving_pages_does_not_import_torch():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "discovery.settings", "HOME": str(Path.home())},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
