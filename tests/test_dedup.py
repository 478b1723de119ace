from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from embedding.dedup import link_near_duplicates
from embedding.models import EmbeddingModel, TrackEmbedding
from tests.vectors import random_unit_vectors
from tracks.dedup import canonical_track, durations_close, normalise_artist, normalise_title
from tracks.models import Track


@pytest.mark.parametrize(
    "title, expected",
    [
        ("Heroes", "heroes"),
        ("Heroes (2017 Remaster)", "heroes"),
        ("Heroes - Remastered 2017", "heroes"),
        ("Heroes [Remastered]", "heroes"),
        ("Heroes (Single Version)", "heroes"),
        ("Heroes (feat. Somebody)", "heroes"),
        ("Heroes (Deluxe Edition; Remastered)", "heroes"),
        ("Héroes", "héroes"),
    ],
)
def test_re_release_markers_are_removed_from_titles(title, expected):
    assert normalise_title(title) == expected


@pytest.mark.parametrize("title", ["Heroes (Live)", "Heroes (Remix)", "Heroes - Radio Edit", "Heroes (Acoustic)"])
def test_other_recordings_keep_their_marker(title):
    assert normalise_title(title) != "heroes"


def test_artists_are_compared_without_the_and_featuring():
    assert normalise_artist("The Cure") == normalise_artist("Cure feat. Someone") == "cure"


@pytest.mark.parametrize(
    "a, b, close", [(200.0, 201.5, True), (200.0, 203.0, True), (200.0, 205.0, False), (None, 200.0, False)]
)
def test_durations_close_within_two_seconds_or_two_percent(a, b, close):
    assert durations_close(a, b, tolerance=(2.0, 0.02)) is close


@pytest.mark.django_db
def test_the_canonical_track_is_the_longest_then_the_oldest():
    def make(key, duration):
        return Track.objects.create(title=key, source="folder", source_key=key, duration_s=duration)

    short, long_new, long_old = make("short", 180.0), make("long new", 200.0), make("long old", 200.0)
    Track.objects.filter(pk=long_old.pk).update(created=timezone.now() - timedelta(days=3))
    long_old.refresh_from_db()
    assert canonical_track([short, long_new, long_old]) == long_old


@pytest.mark.django_db
class TestNearDuplicates:
    @pytest.fixture
    def model(self, settings):
        settings.DEDUP_MIN_COSINE = {"musicnn": 0.97}
        return EmbeddingModel.objects.create(name="musicnn", dim=16)

    def add(self, model, title, vector, duration, artist="Band", key=None):
        track = Track.objects.create(
            title=title, artist=artist, source="folder", source_key=key or title, duration_s=duration
        )
        TrackEmbedding.objects.create(track=track, model=model, vector=vector / np.linalg.norm(vector))
        return track

    def test_a_remaster_that_sounds_the_same_points_to_the_original(self, model):
        base = random_unit_vectors(1, 16, seed=1)[0]
        original = self.add(model, "Song A", base, 241.0)
        remaster = self.add(model, "Song A, new master", base + 0.05 * random_unit_vectors(1, 16, seed=2)[0], 240.0)
        assert link_near_duplicates([remaster.pk], model) == 1
        remaster.refresh_from_db()
        assert remaster.duplicate_of == original

    def test_alike_vectors_with_different_durations_stay_apart(self, model):
        base = random_unit_vectors(1, 16, seed=1)[0]
        self.add(model, "Song A", base, 241.0)
        edit = self.add(model, "Song A (radio edit)", base, 190.0)
        assert link_near_duplicates([edit.pk], model) == 0

    def test_different_music_stays_apart(self, model):
        a, b = random_unit_vectors(2, 16, seed=3)
        self.add(model, "Song A", a, 200.0)
        other = self.add(model, "Song B", b, 200.0)
        assert link_near_duplicates([other.pk], model) == 0

    def test_the_same_title_and_artist_is_the_same_recording(self, model):
        a, b = random_unit_vectors(2, 16, seed=4)
        original = self.add(model, "Heroes", a, 371.0, artist="David Bowie")
        reissue = self.add(model, "Heroes (2017 Remaster)", b, 370.0, artist="David Bowie")
        link_near_duplicates([reissue.pk], model)
        reissue.refresh_from_db()
        assert reissue.duplicate_of == original

    def test_the_same_title_and_artist_with_far_apart_durations_are_two_pieces(self, model):
        # Two movements tagged alike (a multi-valued title and one artist): 72 s and 128 s cannot be one recording.
        a, b = random_unit_vectors(2, 16, seed=6)
        self.add(model, "Suite; Part One", a, 72.0, artist="Ensemble")
        other = self.add(model, "Suite; Part One", b, 128.0, artist="Ensemble", key="second")
        assert link_near_duplicates([other.pk], model) == 0
        assert not Track.objects.filter(duplicate_of__isnull=False).exists()

    def test_the_same_title_and_artist_without_a_duration_is_not_linked(self, model):
        a, b = random_unit_vectors(2, 16, seed=7)
        self.add(model, "Heroes", a, 371.0, artist="David Bowie")
        unknown = self.add(model, "Heroes", b, None, artist="David Bowie", key="undated")
        assert link_near_duplicates([unknown.pk], model) == 0

    def test_groups_merge_on_the_longest_track(self, model):
        base = random_unit_vectors(1, 16, seed=5)[0]
        first = self.add(model, "Take", base, 200.0)
        second = self.add(model, "Take 2", base, 201.0)
        link_near_duplicates([second.pk], model)
        longest = self.add(model, "Take 3", base, 201.5)
        link_near_duplicates([longest.pk], model)
        assert set(Track.objects.filter(duplicate_of=longest).values_list("pk", flat=True)) == {first.pk, second.pk}
        longest.refresh_from_db()
        assert longest.duplicate_of is None
