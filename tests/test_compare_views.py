"""/compare/: two models' lists side by side, never named, sides drawn at random; verdicts and their tallies."""

import numpy as np
import pytest
from django.urls import reverse

from discovery.compare.models import Trial
from discovery.compare.services import tallies, wilson_interval
from embedding.models import EmbeddingModel, TrackEmbedding
from taste.stations.models import Station, StationSeed
from tracks.models import Track


@pytest.fixture
def catalogue(db):
    musicnn = EmbeddingModel.objects.create(name="musicnn", dim=4)
    ours = EmbeddingModel.objects.create(name="wavelength-1", dim=4)
    rng = np.random.default_rng(0)
    tracks = []
    for i in range(14):
        track = Track.objects.create(title=f"Song {i}", artist=f"Band {i}", source="upload", source_key=f"{i:064d}")
        for model in (musicnn, ours):
            vector = rng.normal(size=4)
            TrackEmbedding.objects.create(track=track, model=model, vector=vector / np.linalg.norm(vector))
        tracks.append(track)
    return musicnn, ours, tracks


def compare_url(*seeds):
    return reverse("compare") + "?" + "&".join(f"seed={t.pk}" for t in seeds)


@pytest.mark.django_db
class TestCompare:
    def test_the_page_shows_two_lists_and_never_names_the_models(self, owner_client, catalogue):
        _, _, tracks = catalogue
        page = owner_client.get(compare_url(tracks[0], tracks[1])).content.decode()
        assert 'data-side="left"' in page and 'data-side="right"' in page
        assert "musicnn" not in page and "wavelength" not in page
        assert page.count('class="compare-tracks"') == 2 and "Song 0 · Band 0" in page
        trial = Trial.objects.get()
        assert {trial.left.name, trial.right.name} == {"musicnn", "wavelength-1"} and trial.seeds == [
            tracks[0].pk,
            tracks[1].pk,
        ]

    def test_the_sides_are_drawn_afresh_each_time(self, owner_client, catalogue):
        _, _, tracks = catalogue
        for _ in range(24):
            owner_client.get(compare_url(tracks[2]))
        lefts = set(Trial.objects.values_list("left__name", flat=True))
        assert lefts == {"musicnn", "wavelength-1"}  # 24 draws all alike would happen once in 8 million

    def test_each_list_leaves_the_seeds_out(self, owner_client, catalogue):
        _, _, tracks = catalogue
        response = owner_client.get(compare_url(tracks[3]))
        for side in ("left", "right"):
            ids = [t.pk for t in response.context[side]]
            assert len(ids) == 10 and tracks[3].pk not in ids

    def test_a_verdict_is_counted_once(self, owner_client, catalogue):
        _, _, tracks = catalogue
        owner_client.get(compare_url(tracks[0]))
        trial = Trial.objects.get()
        url = reverse("compare_vote", args=[trial.pk])
        assert "is counted" in owner_client.post(url, {"verdict": "left"}).content.decode()
        trial.refresh_from_db()
        assert trial.verdict == "left" and trial.winner == trial.left and trial.decided is not None
        again = owner_client.post(url, {"verdict": "right"})
        assert again.status_code == 400 and "already judged" in again.content.decode()

    def test_a_bad_verdict_is_a_400_and_another_listeners_trial_a_404(self, owner_client, outsider, catalogue):
        _, _, tracks = catalogue
        owner_client.get(compare_url(tracks[0]))
        trial = Trial.objects.get()
        bad = owner_client.post(reverse("compare_vote", args=[trial.pk]), {"verdict": "both"})
        assert bad.status_code == 400
        owner_client.force_login(outsider)
        assert owner_client.post(reverse("compare_vote", args=[trial.pk]), {"verdict": "left"}).status_code == 404

    def test_seeds_come_from_the_listeners_own_station_only(self, owner_client, owner, outsider, catalogue):
        _, _, tracks = catalogue
        mine = Station.objects.create(owner=owner, name="Mine")
        theirs = Station.objects.create(owner=outsider, name="Theirs")
        for station in (mine, theirs):
            StationSeed.objects.create(station=station, track=tracks[4], position=0)
        assert owner_client.get(reverse("compare") + f"?station={mine.pk}").status_code == 200
        assert Trial.objects.get().seeds == [tracks[4].pk]
        assert owner_client.get(reverse("compare") + f"?station={theirs.pk}").status_code == 404

    def test_one_model_alone_cannot_be_compared(self, owner_client, catalogue):
        _, ours, tracks = catalogue
        ours.delete()
        response = owner_client.get(compare_url(tracks[0]))
        assert response.status_code == 400 and "needs two models" in response.content.decode()


@pytest.mark.django_db
class TestTallies:
    def test_tallies_count_per_pair_and_per_listener_with_an_interval(self, owner, outsider, catalogue):
        musicnn, ours, _ = catalogue
        verdicts = [(owner, musicnn, ours, "right")] * 3 + [
            (owner, ours, musicnn, "left"),
            (outsider, ours, musicnn, "same"),
        ]
        for listener, left, right, verdict in verdicts:
            Trial.objects.create(listener=listener, left=left, right=right, verdict=verdict)
        Trial.objects.create(listener=owner, left=musicnn, right=ours)  # undecided: not counted
        (pair,) = tallies()
        assert (pair.first, pair.second, pair.first_wins, pair.second_wins, pair.same) == (
            "musicnn",
            "wavelength-1",
            0,
            4,
            1,
        )
        low, high = pair.interval
        assert low == 0.0 and high == pytest.approx(0.490, abs=0.001)
        per_listener = {t.listener: (t.second_wins, t.same) for t in tallies(by_listener=True)}
        assert per_listener == {owner.get_username(): (4, 0), outsider.get_username(): (0, 1)}

    def test_the_wilson_interval_matches_known_values(self):
        assert wilson_interval(8, 10) == pytest.approx((0.490, 0.943), abs=0.001)
        assert wilson_interval(0, 0) == (0.0, 1.0)

    def test_listeners_do_not_see_the_tallies(self, owner_client, catalogue):
        assert owner_client.get(reverse("compare_tallies")).status_code == 404

    def test_staff_see_the_tallies(self, staff_client, catalogue):
        page = staff_client.get(reverse("compare_tallies")).content.decode()
        assert "No decided comparisons yet." in page
