"""Which folders the site may scan (discovery/library/folders.py): inside MUSIC_DIRS, resolved, nothing else."""

import os

import pytest

from discovery.lib.forms import ListenerError
from discovery.library.folders import inside_music_dirs, music_dirs, music_folder


def refusal(text):
    with pytest.raises(ListenerError) as caught:
        music_folder(text)
    return str(caught.value)


def test_a_root_and_the_folders_inside_it_are_accepted(music_root):
    assert music_folder(str(music_root)) == music_root.resolve()
    assert music_folder(f"{music_root}/Album/") == (music_root / "Album").resolve()
    assert music_folder(f"{music_root}/./Album/../Album") == (music_root / "Album").resolve()


@pytest.mark.parametrize(
    "written",
    [
        "{root}/../outside",
        "{root}/Album/../../outside",
        "{root}/..",
        "{root}/../music2",  # a sibling whose name starts with the root's
        "{root}2",
        "{root}2/",
        "/",
        "/etc",
    ],
)
def test_anything_outside_music_dirs_is_refused_with_the_roots_named(music_root, written):
    message = refusal(written.format(root=music_root))
    assert message == (
        "Only folders inside the music folders this site was given (MUSIC_DIRS) can be scanned: "
        f"{music_root.resolve()}."
    )


def test_a_symlink_inside_a_root_that_leads_outside_is_refused(music_root, tmp_path):
    os.symlink(tmp_path / "outside", music_root / "sneaky")
    assert "Only folders inside the music folders" in refusal(str(music_root / "sneaky"))
    assert not inside_music_dirs(music_root / "sneaky" / "private.wav")


def test_a_root_reached_through_a_symlink_is_the_same_root(music_root, tmp_path, settings):
    os.symlink(music_root, tmp_path / "link-to-music")
    settings.MUSIC_DIRS = [tmp_path / "link-to-music"]
    assert music_dirs() == [music_root.resolve()]
    assert music_folder(str(music_root / "Album")) == (music_root / "Album").resolve()


def test_a_missing_folder_outside_the_roots_gets_the_same_answer_as_an_existing_one(music_root, tmp_path):
    # Whether a folder exists outside the roots is none of the answer's business.
    assert refusal(str(tmp_path / "nowhere")) == refusal(str(tmp_path / "outside"))


def test_a_missing_folder_inside_a_root_is_named(music_root):
    assert refusal(f"{music_root}/Nope") == f"There is no folder {music_root}/Nope on the server."


def test_a_relative_path_is_refused(music_root):
    assert refusal("Album").startswith("Give the folder's full path, starting with “/”")


def test_without_music_dirs_it_says_how_to_set_them(settings):
    settings.MUSIC_DIRS = []
    message = refusal("/srv/music")
    assert message.startswith("This site was given no music folders to scan. Set MUSIC_DIRS to the folders")
    assert "separated by “:”" in message
