"""Settings for the test run: the same PostgreSQL, tasks run in-process, fast password hashing."""

import os
import tempfile
from pathlib import Path

from discovery.settings import *  # noqa: F403
from discovery.settings import Q_CLUSTER

# django-q2 reads its configuration once at import, so override_settings cannot switch this on later.
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="wavelength-test-media-"))

# One test database per run, so that two test runs against the same server (two terminals, CI beside a
# developer) never drop each other's database.
DATABASES["default"]["TEST"] = {"NAME": f"test_wavelength_{os.getpid()}"}  # noqa: F405
STATIC_ROOT = Path(tempfile.mkdtemp(prefix="wavelength-test-static-"))
WHITENOISE_USE_FINDERS = True
