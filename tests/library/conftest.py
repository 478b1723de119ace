"""Fixtures of the Add music tests: a folder of real audio inside MUSIC_DIRS, and a cheap embedding model.

Tests run django-q2 tasks in-process, so an import job runs inside the request that starts it and the
embedding it queues runs inside the job: with the spectral model (no weights) that costs little.
"""

from pathlib import Path

import pytest

from embedding.models import EmbeddingModel
from tests.audio_samples import music, tone, write_clip, write_garbage

TAGS = {"title": "Night Drive", "artist": "The Testers", "album": "Synthetic"}


@pytest.fixture
def spectral_model(db):
    from embedding.spectral import DIM

    return EmbeddingModel.objects.create(name="spectral", dim=DIM, is_default=True)


def write_album(folder: Path) -> Path:
    """Two playable clips and one file that only looks like audio."""
    folder.mkdir(parents=True, exist_ok=True)
    write_clip(folder / "01 night drive.flac", seconds=1.5, codec="flac", tags=TAGS)
    write_clip(folder / "02 second.ogg", seconds=1.5, codec="vorbis", signal=lambda s, r: music(s, r, bpm=90, seed=4))
    write_garbage(folder / "03 broken.mp3")
    return folder


@pytest.fixture
def music_root(tmp_path, settings):
    """MUSIC_DIRS=<tmp>/music holding Album/ (two clips, one broken file); <tmp>/music2 and <tmp>/outside sit
    beside it, each with a clip the site must never read."""
    root = tmp_path / "music"
    write_album(root / "Album")
    for name in ("music2", "outside"):
        (tmp_path / name).mkdir()
        write_clip(tmp_path / name / "private.wav", seconds=1.0, signal=lambda s, r: tone(s, r, 550))
    settings.MUSIC_DIRS = [root]
    return root
