"""Static files: hashed, compressed names once `collectstatic` has run; the plain names before it.

WhiteNoise's manifest storage answers every page with a 500 when the manifest is missing (a plain
`manage.py runserver` on a fresh checkout) or lacks a file added since the last `collectstatic`: it refuses to
name a file it has not hashed. This one names such a file by its plain path instead, which WhiteNoise serves
from the source folders (WHITENOISE_USE_FINDERS), and says once in the log that collectstatic has not run.
"""

import logging

from whitenoise.storage import CompressedManifestStaticFilesStorage

log = logging.getLogger(__name__)


class ManifestOrSourceStorage(CompressedManifestStaticFilesStorage):
    _warned = False

    def stored_name(self, name):
        try:
            return super().stored_name(name)
        except ValueError:
            if not ManifestOrSourceStorage._warned:
                ManifestOrSourceStorage._warned = True
                log.warning(
                    "Static file %r is not in %s's manifest: serving plain, uncached names until "
                    "`manage.py collectstatic` runs.", name, self.location,
                )
            return name
