import math
from dataclasses import replace

import numpy as np
import pytest

from bench.ranking_inputs import station_sized_input
from discovery.engine.profile import build_anchors
from discovery.engine.ranking import (
    DISLIKE_STRENGTH,
    DISLIKE_WIDTH,
    RankingInput,
    SliderSteer,
    dislike_penalty,
    filter_candidates,
    mmr,
    mmr_lambda,
    novelty,
    rank_candidates,
    soft_top_k,
    throughline_vector,
)
from tests.vectors import random_unit_vectors

HOUR = 3600.0


def at_angle(degrees: float, dim: int = 2) -> np.ndarray:
    """A unit vector in the plane of the first two axes; two of them have cosine cos(difference of angles)."""
    radians = math.radians(degrees)
    vector = np.zeros(dim)
    vector[:2] = math.cos(radians), math.sin(radians)
    return vector


def with_cosine(cosine: float, dim: int = 2, towards_axis: int = 1) -> np.ndarray:
    """A unit vector with the given cosine to the first axis, leaning towards another axis."""
    vector = np.zeros(dim)
    vector[0], vector[towards_axis] = cosine, math.sqrt(1 - cosine**2)
    return vector


def station(candidates, seeds, likes=(), like_ages_s=None, **options) -> RankingInput:
    """Candidates 1001, 1002, … against seeds 1, 2, … (an hour old) and likes 101, 102, … (minutes old, the last
    one newest)."""
    likes = list(likes)
    anchors = build_anchors(
        seed_ids=range(1, len(seeds) + 1),
        seed_vectors=seeds,
        seed_ages_s=[HOUR] * len(seeds),
        like_ids=range(101, 101 + len(likes)),
        like_vectors=likes if likes else None,
        like_ages_s=like_ages_s if like_ages_s is not None else [60.0 * (i + 1) for i in range(len(likes))][::-1],
    )
    titles = [f"Seed {chr(ord('A') + i)}" for i in range(len(seeds))] + [f"Like {i + 1}" for i in range(len(likes))]
    defaults = dict(
        candidate_ids=np.arange(1001, 1001 + len(candidates)),
        candidate_vectors=np.asarray(candidates, dtype=float),
        anchors=anchors,
        anchor_titles=titles,
        near_duplicate_cosine=0.99,
        seed_ids=list(range(1, len(seeds) + 1)),
        breadth=0.5,
        explore=0.0,
    )
    defaults.update(options)
    return RankingInput(**defaults)


def ids_of(results) -> list[int]:
    return [result.track_id for result in results]


class TestThroughline:
    def test_it_points_between_two_seeds(self):
        np.testing.assert_allclose(throughline_vector([[1.0, 0.0], [0.0, 3.0]]), [2**-0.5, 2**-0.5])

    def test_one_seed_is_its_own_throughline(self):
        np.testing.assert_allclose(throughline_vector([[3.0, 4.0]]), [0.6, 0.8])
        np.testing.assert_allclose(throughline_vector([3.0, 4.0]), [0.6, 0.8])

    def test_it_is_closer_to_the_seeds_than_any_seed_is(self):
        seeds = random_unit_vectors(6, 200, seed=1)
        throughline = throughline_vector(seeds)
        assert np.linalg.norm(throughline) == pytest.approx(1.0)
        assert (seeds @ throughline).sum() > max((seeds @ seed).sum() for seed in seeds)

    @pytest.mark.parametrize(
        "seeds, message",
        [
            (np.zeros((0, 3)), "empty"),
            ([[1.0, 0.0], [0.0, 0.0]], "row 1 is a zero vector"),
            ([[1.0, math.nan]], "NaN"),
            ([[1.0, 0.0], [-1.0, 0.0]], "opposite directions"),
            (np.ones((2, 2, 2)), "2-D array"),
        ],
    )
    def test_it_refuses_seeds_without_a_direction(self, seeds, message):
        with pytest.raises(ValueError, match=message):
            throughline_vector(seeds)


class TestSoftTopK:
    def test_one_strong_match_counts_more_than_many_weak_ones(self):
        strong_once = [0.95] + [0.1] * 9
        fair_everywhere = [0.5] * 10
        assert np.mean(strong_once) < np.mean(fair_everywhere)
        relevance = soft_top_k([strong_once, fair_everywhere], np.ones(10), temperature=0.03)
        assert relevance[0] > relevance[1]

    def test_it_lies_between_the_weighted_mean_and_the_max(self):
        rng = np.random.default_rng(3)
        similarities = rng.uniform(-1, 1, size=(50, 30))
        weights = rng.uniform(0, 1, size=30)
        mean = similarities @ weights / weights.sum()
        for temperature in [1e-4, 0.03, 0.3, 10.0]:
            relevance = soft_top_k(similarities, weights, temperature)
            assert (relevance >= mean - 1e-12).all()
            assert (relevance <= similarities.max(axis=1) + 1e-12).all()

    def test_as_temperature_falls_it_approaches_the_max_over_weighted_anchors(self):
        similarities = np.array([[0.2, 0.9, 0.99], [0.5, 0.4, 0.3]])
        weights = np.array([1.0, 0.5, 0.0])
        np.testing.assert_allclose(soft_top_k(similarities, weights, 1e-5), [0.9, 0.5], atol=1e-4)

    def test_as_temperature_grows_it_approaches_the_weighted_mean(self):
        similarities = np.array([[0.2, 0.8], [1.0, -1.0]])
        weights = np.array([3.0, 1.0])
        np.testing.assert_allclose(soft_top_k(similarities, weights, 1e4), [0.35, 0.5], atol=1e-4)

    def test_only_the_ratios_of_weights_matter(self):
        similarities = random_unit_vectors(5, 8, seed=2) @ random_unit_vectors(4, 8, seed=3).T
        weights = np.array([0.1, 0.2, 0.3, 0.4])
        np.testing.assert_allclose(
            soft_top_k(similarities, weights), soft_top_k(similarities, weights * 1e-12), atol=1e-12
        )

    def test_it_stays_finite_at_tiny_temperatures(self):
        relevance = soft_top_k(np.array([[1.0, -1.0], [-1.0, -1.0]]), np.array([1e-300, 1.0]), 1e-6)
        assert np.isfinite(relevance).all()
        np.testing.assert_allclose(relevance, [1.0, -1.0], atol=1e-3)

    @pytest.mark.parametrize(
        "similarities, weights, temperature, message",
        [
            ([[0.1, 0.2]], [0.0, 0.0], 0.1, "at least one above zero"),
            ([[0.1, 0.2]], [1.0, -1.0], 0.1, "non-negative"),
            ([[0.1, 0.2]], [1.0], 0.1, "one weight per anchor"),
            ([[0.1, math.nan]], [1.0, 1.0], 0.1, "NaN"),
            ([0.1, 0.2], [1.0, 1.0], 0.1, "2-D array"),
            ([[0.1, 0.2]], [1.0, 1.0], 0.0, "temperature must be a positive number"),
        ],
    )
    def test_it_refuses_malformed_input(self, similarities, weights, temperature, message):
        with pytest.raises(ValueError, match=message):
            soft_top_k(similarities, weights, temperature)


class TestDislikePenaltyAndNovelty:
    def test_the_penalty_is_strongest_at_the_disliked_track_and_fades_with_distance(self):
        candidates = [with_cosine(1.0), with_cosine(0.95), with_cosine(0.5)]
        penalty = dislike_penalty(candidates, [[1.0, 0.0]])
        np.testing.assert_allclose(
            penalty, DISLIKE_STRENGTH * np.exp((np.array([1.0, 0.95, 0.5]) - 1) / DISLIKE_WIDTH)
        )
        assert penalty[0] == pytest.approx(DISLIKE_STRENGTH)
        assert penalty[2] < 1e-5

    def test_the_nearest_dislike_decides(self):
        penalty = dislike_penalty([at_angle(0)], [at_angle(90), at_angle(5), at_angle(180)], strength=1, width=0.1)
        assert penalty[0] == pytest.approx(math.exp((math.cos(math.radians(5)) - 1) / 0.1))

    def test_without_dislikes_nothing_is_penalised(self):
        assert dislike_penalty([at_angle(0), at_angle(30)], None).tolist() == [0.0, 0.0]

    def test_novelty_is_one_minus_the_closest_known_track(self):
        known = [at_angle(0), at_angle(120)]
        np.testing.assert_allclose(novelty([at_angle(0), at_angle(60)], known), [0.0, 0.5], atol=1e-12)
        assert novelty([at_angle(225)], known)[0] == pytest.approx(1 - math.cos(math.radians(105)))

    def test_when_nothing_is_known_everything_is_new(self):
        assert novelty([at_angle(0)], np.zeros((0, 2))).tolist() == [1.0]


class TestMmr:
    def test_with_lambda_one_it_is_a_stable_sort_by_score(self):
        vectors = random_unit_vectors(200, 16, seed=4)
        scores = np.round(np.random.default_rng(4).uniform(size=200), 1)
        assert mmr(vectors, scores, 200, lam=1.0) == np.argsort(-scores, kind="stable").tolist()

    def test_with_a_lower_lambda_it_avoids_near_identical_picks(self):
        vectors = [at_angle(0), at_angle(1), at_angle(60)]
        scores = [0.9, 0.89, 0.8]
        assert mmr(vectors, scores, 3, lam=1.0) == [0, 1, 2]
        assert mmr(vectors, scores, 3, lam=0.5) == [0, 2, 1]

    def test_it_matches_the_textbook_definition(self):
        vectors = random_unit_vectors(60, 12, seed=5)
        scores = np.random.default_rng(5).uniform(size=60)
        lam, chosen = 0.6, []
        while len(chosen) < 15:
            best = max(
                (i for i in range(60) if i not in chosen),
                key=lambda i: lam * scores[i] - (1 - lam) * max((vectors[i] @ vectors[j] for j in chosen), default=0),
            )
            chosen.append(best)
        assert mmr(vectors, scores, 15, lam) == chosen

    def test_ties_go_to_the_lowest_index(self):
        assert mmr([at_angle(0), at_angle(0), at_angle(0)], [0.5, 0.5, 0.5], 3, lam=0.7) == [0, 1, 2]

    def test_it_drops_near_duplicates_of_higher_picks(self):
        vectors = [at_angle(0), at_angle(2), at_angle(40)]
        assert mmr(vectors, [0.9, 0.8, 0.7], 3, lam=1.0, near_duplicate_cosine=0.99) == [0, 2]

    def test_it_caps_tracks_per_artist_but_not_unknown_artists(self):
        vectors = [at_angle(angle) for angle in (0, 10, 20, 30, 40, 50)]
        artists = ["a", "a", "a", "b", "", ""]
        picks = mmr(vectors, [0.9, 0.8, 0.7, 0.6, 0.5, 0.4], 6, lam=1.0, artists=artists, max_per_artist=2)
        assert picks == [0, 1, 3, 4, 5]

    def test_it_returns_what_there_is(self):
        assert mmr([at_angle(0), at_angle(90)], [0.1, 0.2], 10, lam=0.8) == [1, 0]
        assert mmr([at_angle(0)], [0.1], 0, lam=0.8) == []

    @pytest.mark.parametrize(
        "options, message",
        [
            (dict(lam=1.2), "lam must be between 0 and 1"),
            (dict(lam=0.5, k=-1), "k must be a whole number"),
            (dict(lam=0.5, scores=[0.1]), "one score per candidate"),
            (dict(lam=0.5, scores=[0.1, math.inf]), "NaN or infinite"),
            (dict(lam=0.5, artists=["a"]), "one key per candidate"),
        ],
    )
    def test_it_refuses_malformed_input(self, options, message):
        arguments = dict(candidate_vectors=[at_angle(0), at_angle(90)], scores=[0.1, 0.2], k=2) | options
        with pytest.raises(ValueError, match=message):
            mmr(**arguments)

    def test_lambda_falls_as_explore_rises(self):
        assert mmr_lambda(0.0) == pytest.approx(0.85)
        assert mmr_lambda(1.0) == pytest.approx(0.35)
        with pytest.raises(ValueError, match="explore must be between 0 and 1"):
            mmr_lambda(-0.5)


class TestFilters:
    def test_it_keeps_only_tracks_not_yet_judged_and_not_copies_of_them(self):
        ids = [10, 11, 12, 13, 11, 14]
        vectors = [at_angle(0), at_angle(30), at_angle(60), at_angle(0.5), at_angle(90), at_angle(120)]
        kept = filter_candidates(
            ids, vectors, excluded_ids=[12, 99], judged_vectors=[at_angle(120.1)], near_duplicate_cosine=0.999
        )
        assert kept.tolist() == [0, 1, 3]

    def test_the_page_leaves_out_seeds_thumbed_tracks_and_copies_of_what_was_judged(self):
        seed, like, dislike = at_angle(0, 3), at_angle(10, 3), at_angle(40, 3)
        candidates = [seed, at_angle(1, 3), at_angle(5, 3), at_angle(10.5, 3), at_angle(40.5, 3), at_angle(20, 3)]
        request = station(
            candidates,
            seeds=[seed],
            likes=[like],
            disliked_vectors=[dislike],
            thumbed_ids=[101, 1003, 4242],
            near_duplicate_cosine=0.999,
            candidate_ids=np.array([1, 1002, 1003, 1004, 1005, 1006]),
        )
        assert ids_of(rank_candidates(request)) == [1006]

    def test_the_page_has_no_copies_of_higher_results_and_at_most_two_tracks_per_artist(self):
        seed = at_angle(0)
        candidates = [at_angle(angle) for angle in (10, 10.5, 12, 14, 16, 18)]
        artists = ["x", "y", "x", "x", "z", "z"]
        results = rank_candidates(
            station(candidates, seeds=[seed], candidate_artists=artists, near_duplicate_cosine=0.9999, breadth=1.0)
        )
        assert ids_of(results) == [1001, 1003, 1005, 1006]


def two_pocket_station(breadth: float) -> RankingInput:
    """Likes near the x axis (the latest one on it) and near the y axis (more of them, and the seed); the
    candidate near y matches its pocket better than the one near x matches its own."""
    x_pocket = [at_angle(0, 3), at_angle(2, 3)]
    y_pocket = [at_angle(88, 3), at_angle(90, 3), at_angle(92, 3)]
    near_x, near_y = np.array([0.93, 0.0, math.sqrt(1 - 0.93**2)]), np.array([0.0, 0.97, math.sqrt(1 - 0.97**2)])
    return station(
        [near_x, near_y],
        seeds=[at_angle(89, 3)],
        likes=x_pocket + y_pocket,
        like_ages_s=[60.0, 600.0, 1200.0, 1200.0, 1200.0],
        breadth=breadth,
        page_size=1,
    )


class TestRankCandidates:
    def test_breadth_zero_keeps_to_the_latest_pocket_and_breadth_one_weighs_every_pocket(self):
        assert ids_of(rank_candidates(two_pocket_station(breadth=1.0))) == [1002]
        assert ids_of(rank_candidates(two_pocket_station(breadth=0.0))) == [1001]

    def test_explore_lifts_novel_far_tracks(self):
        candidates = [at_angle(18), at_angle(32), at_angle(53)]
        familiar = rank_candidates(station(candidates, seeds=[at_angle(0)], explore=0.0, page_size=3))
        adventurous = rank_candidates(station(candidates, seeds=[at_angle(0)], explore=1.0, page_size=1))
        assert ids_of(familiar) == [1001, 1002, 1003]
        assert ids_of(adventurous) == [1003]
        assert adventurous[0].for_novelty and adventurous[0].why.startswith("New ground near “Seed A”, your seed")
        assert not any(result.for_novelty for result in familiar)

    def test_explore_moves_away_from_tracks_already_shown(self):
        candidates = [at_angle(20), at_angle(-21)]
        request = station(candidates, seeds=[at_angle(0)], shown_vectors=[at_angle(25)], explore=0.5)
        assert ids_of(rank_candidates(request))[0] == 1002
        assert ids_of(rank_candidates(replace(request, explore=0.0)))[0] == 1001

    def test_a_thumbed_down_track_pushes_its_neighbours_down(self):
        near_dislike, elsewhere = at_angle(23), at_angle(-24.5)
        dislike = at_angle(23 + math.degrees(math.acos(0.95)))
        before = rank_candidates(station([near_dislike, elsewhere], seeds=[at_angle(0)]))
        after = rank_candidates(station([near_dislike, elsewhere], seeds=[at_angle(0)], disliked_vectors=[dislike]))
        assert ids_of(before) == [1001, 1002]
        assert ids_of(after) == [1002, 1001]
        assert after[1].near_dislike and after[1].why.endswith(" · a little like one you turned down")
        assert after[1].why.startswith("Sounds like “Seed A”")
        assert not after[0].near_dislike

    def test_the_first_result_never_names_a_dislike_and_no_line_gives_it_as_the_reason(self):
        # Both candidates sound more like the turned-down track (cosine 0.97) than like the seed (0.91).
        dislike = at_angle(39)
        results = rank_candidates(station([at_angle(25), at_angle(-25.5)], seeds=[at_angle(0)],
                                          disliked_vectors=[dislike, at_angle(-39.5)]))
        assert all(result.near_dislike for result in results)
        assert "turned down" not in results[0].why
        assert results[1].why_parts[-1] == "a little like one you turned down"
        assert all(result.why.startswith("Sounds like “Seed A”") for result in results)

    def test_each_result_says_which_anchor_it_is_like_and_how_close(self):
        seeds = [at_angle(0, 3), at_angle(90, 3)]
        candidate = with_cosine(0.91, 3, towards_axis=2)
        far = [[-0.5, 0.0, math.sqrt(0.75)]] * 99
        closer = [[0.95, 0.0, math.sqrt(1 - 0.95**2)]]
        request = station(
            [candidate],
            seeds=seeds,
            corpus_sample=np.array(far + closer),
            candidate_tags=[{"guitar": 0.9, "rock": 0.8, "piano": 0.2, "drums": 0.1, "bass": 0.05, "voice": 0.01}],
            anchor_tags=[{"rock": 0.9, "guitar": 0.7, "voice": 0.6}, {"guitar": 1.0}],
        )
        [result] = rank_candidates(request)
        assert result.why_anchor_id == 1
        assert result.why_anchor_cosine == pytest.approx(0.91)
        assert result.corpus_percentile == pytest.approx(0.99)
        assert result.shared_tags == ("rock", "guitar")
        assert result.why == "Sounds like “Seed A”, your seed — closer than 99 % of the catalogue · both: rock, guitar"
        assert result.similarity == pytest.approx(0.91 * 2**-0.5)

    def test_the_tags_quoted_are_those_rarer_in_the_catalogue_than_on_the_pair(self):
        tags = {"instrumental": 0.6, "ambient": 0.5, "epic": 0.1}
        request = station([at_angle(10)], seeds=[at_angle(0)], candidate_tags=[tags], anchor_tags=[tags])
        assert rank_candidates(request)[0].shared_tags == ("instrumental", "ambient")
        catalogue = {"instrumental": 0.3, "ambient": 0.3, "epic": 0.02}
        [result] = rank_candidates(replace(request, tag_means=catalogue))
        assert result.shared_tags == ("epic", "instrumental") and result.why.endswith("· both: epic, instrumental")

    def test_a_page_of_alike_tracks_does_not_quote_the_same_tag_on_every_line(self):
        tags = {"epic": 0.2, "strings": 0.2, "sad": 0.2}
        candidates = [at_angle(angle) for angle in range(10, 100, 9)]
        request = station(candidates, seeds=[at_angle(0)], candidate_tags=[tags] * len(candidates),
                          anchor_tags=[tags], tag_means={"epic": 0.02, "strings": 0.03, "sad": 0.01})
        results = rank_candidates(request)
        assert len(results) == 10 and results[0].shared_tags == ("sad", "epic")
        assert max(sum(tag in result.shared_tags for result in results) for tag in tags) <= 7

    def test_a_track_explained_by_a_like_says_so(self):
        [result] = rank_candidates(station([at_angle(80)], seeds=[at_angle(0)], likes=[at_angle(90)]))
        assert result.why_anchor_id == 101
        assert result.why.startswith("Sounds like “Like 1”, which you liked")

    def test_at_breadth_zero_the_explanation_names_the_pocket_in_focus(self):
        results = rank_candidates(replace(two_pocket_station(0.0), page_size=2))
        assert len(results) == 2
        assert {result.why_anchor_id for result in results} <= {101, 102}

    def test_it_is_deterministic(self):
        first = rank_candidates(station_sized_input(n=300, m=12, d=64, seed=9))
        second = rank_candidates(station_sized_input(n=300, m=12, d=64, seed=9))
        assert first == second
        assert len(first) == 20

    def test_a_full_size_page_obeys_every_rule(self):
        request = station_sized_input(n=500, m=30, d=200, seed=1)
        request = replace(request, explore=0.6, near_duplicate_cosine=0.2)
        results = rank_candidates(request)
        ids = ids_of(results)
        index = {track_id: i for i, track_id in enumerate(request.candidate_ids.tolist())}
        vectors = request.candidate_vectors[[index[track_id] for track_id in ids]]
        artists = [request.candidate_artists[index[track_id]] for track_id in ids]
        assert len(ids) == 20 == len(set(ids))
        assert not set(ids) & (set(request.thumbed_ids.tolist()) | set(request.seed_ids.tolist()))
        assert max(artists.count(artist) for artist in artists) <= 2
        cosines = vectors @ vectors.T
        assert cosines[np.triu_indices(len(ids), 1)].max() < 0.2
        assert all(result.why.startswith(("Sounds like “Anchor ", "New ground near “Anchor ")) for result in results)

    def test_an_empty_candidate_list_gives_an_empty_page(self):
        assert rank_candidates(station(np.zeros((0, 2)), seeds=[at_angle(0)])) == []

    @pytest.mark.parametrize(
        "options, message",
        [
            (dict(explore=1.5), "explore must be between 0 and 1"),
            (dict(breadth=-0.1), "breadth must be between 0 and 1"),
            (dict(near_duplicate_cosine=math.nan), "near_duplicate_cosine must be between 0 and 1"),
            (dict(candidate_vectors=np.array([[math.nan, 1.0]])), "candidate_vectors contains NaN"),
            (dict(candidate_vectors=np.array([[1.0, 0.0, 0.0]])), "3 dimensions where 2 were expected"),
            (dict(candidate_vectors=np.array([1.0, 0.0])), "2-D array"),
            (dict(candidate_ids=[1001, 1002]), "one id and one vector"),
            (dict(candidate_ids=[1.5]), "integer track ids"),
            (dict(anchor_titles=[]), "anchor_titles needs one entry per track"),
            (dict(candidate_tags=[{}, {}]), "candidate_tags needs one entry per track"),
            (dict(page_size=0), "page_size must be a whole number of at least 1"),
            (dict(max_per_artist=0), "max_per_artist must be a whole number of at least 1"),
            (dict(temperature=-1.0), "temperature must be a positive number"),
            (dict(disliked_vectors=[[0.0, 0.0]]), "disliked_vectors row 0 is a zero vector"),
            (dict(focus=[math.nan, 0.0]), "focus contains NaN"),
        ],
    )
    def test_it_refuses_malformed_input_with_a_sentence(self, options, message):
        with pytest.raises(ValueError, match=message):
            rank_candidates(station([at_angle(30)], seeds=[at_angle(0)], **options))


class TestSliderKnobs:
    def request_with_slider(self, weight):
        request = station_sized_input(n=200, m=10, d=32, seed=11)
        # The slider's word: how far along one hidden direction a track lies.
        direction = np.zeros(32)
        direction[0] = 1.0
        values = np.asarray(request.candidate_vectors) @ direction
        steer = SliderSteer("dreamy", weight, (values - values.mean()) / values.std())
        return replace(request, sliders=(steer,)), values, np.asarray(request.candidate_ids)

    def mean_value_on_page(self, weight):
        request, values, ids = self.request_with_slider(weight)
        by_id = dict(zip(ids.tolist(), values.tolist()))
        page = rank_candidates(request)
        return np.mean([by_id[r.track_id] for r in page]), page

    def test_more_of_a_slider_lifts_tracks_that_have_more_of_it(self):
        more, _ = self.mean_value_on_page(1.0)
        neutral, _ = self.mean_value_on_page(0.0)
        less, _ = self.mean_value_on_page(-1.0)
        assert more > neutral > less

    def test_the_why_line_names_the_slider_that_moved_a_track(self):
        _, page = self.mean_value_on_page(1.0)
        assert any(r.why.endswith("· more dreamy") and r.slider_note == "more dreamy" for r in page)
        _, neutral_page = self.mean_value_on_page(0.0)
        assert not any("dreamy" in r.why for r in neutral_page)

    @pytest.mark.parametrize("weight", [1.5, float("nan")])
    def test_a_weight_outside_minus_one_to_one_is_refused(self, weight):
        request, _, _ = self.request_with_slider(weight)
        with pytest.raises(ValueError, match="between -1 and 1"):
            rank_candidates(request)
