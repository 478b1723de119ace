"""MUSIC_DIRS: the operator's music folders the site may play from, colon- or comma-separated absolute paths."""

import pytest

from tests.test_settings import PRODUCTION_ENV, settings_values


def music_dirs(value: str | None):
    env = dict(PRODUCTION_ENV)
    if value is not None:
        env["MUSIC_DIRS"] = value
    return settings_values(env, "MUSIC_DIRS")["MUSIC_DIRS"]


def test_it_is_empty_by_default():
    assert music_dirs(None) == []


def test_colons_and_commas_both_separate_paths():
    assert music_dirs("/music:/srv/more music, /mnt/archive,") == ["/music", "/srv/more music", "/mnt/archive"]


def test_a_relative_path_stops_the_site_with_a_sentence():
    with pytest.raises(AssertionError, match="MUSIC_DIRS must list absolute paths"):
        music_dirs("music")
