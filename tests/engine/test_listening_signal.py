import math

import numpy as np
import pytest

from discovery.engine.listening import (
    FINISH_HALF_LIFE_S,
    FINISH_STRENGTH,
    SKIP_HALF_LIFE_S,
    SKIP_STRENGTH,
    SKIP_WIDTH,
    ListeningSignals,
    listening_shift,
)
from discovery.engine.profile import build_anchors
from discovery.engine.ranking import DISLIKE_STRENGTH, RankingInput, rank_candidates

DAY = 24 * 3600.0
SEED = np.array([1.0, 0.0, 0.0])
# Two candidates exactly as close to the seed (cosine 0.9), on either side of it: only a signal can part them.
A = np.array([0.9, math.sqrt(1 - 0.81), 0.0])
B = np.array([0.9, -math.sqrt(1 - 0.81), 0.0])


def near(vector: np.ndarray, cosine: float) -> np.ndarray:
    """A unit vector with this cosine to `vector`, leaning towards the third axis (away from the other side)."""
    return cosine * vector + math.sqrt(1 - cosine**2) * np.array([0.0, 0.0, 1.0])


def scores(listening=None, disliked=None, candidates=(A, B)) -> dict[int, float]:
    anchors = build_anchors([1], [SEED], [3600.0])
    results = rank_candidates(
        RankingInput(
            candidate_ids=list(range(1001, 1001 + len(candidates))),
            candidate_vectors=np.array(candidates),
            anchors=anchors,
            anchor_titles=["Seed"],
            near_duplicate_cosine=0.999,
            seed_ids=[1],
            explore=0.0,
            page_size=len(candidates),
            disliked_vectors=None if disliked is None else np.array(disliked),
            listening=listening,
        )
    )
    return {result.track_id: result.score for result in results}


def skipped(*vectors, age_s=0.0) -> ListeningSignals:
    return ListeningSignals(skipped_vectors=np.array(vectors), skipped_ages_s=[age_s] * len(vectors))


def finished(*vectors, age_s=0.0) -> ListeningSignals:
    return ListeningSignals(finished_vectors=np.array(vectors), finished_ages_s=[age_s] * len(vectors))


class TestEarlySkip:
    def test_a_skip_moves_its_neighbour_below_an_equally_close_track(self):
        before, after = scores(), scores(skipped(near(A, 0.95)))
        assert before[1001] == pytest.approx(before[1002])
        assert after[1001] < after[1002]
        assert list(after) == [1002, 1001]

    def test_one_skip_moves_a_neighbour_down_less_than_a_thumb_down(self):
        before = scores()[1001]
        after_skip = scores(skipped(near(A, 0.95)))[1001]
        after_dislike = scores(disliked=[near(A, 0.95)])[1001]
        assert 0 < before - after_skip < before - after_dislike
        assert (before - after_skip) == pytest.approx((before - after_dislike) / 3, rel=1e-6)

    def test_the_skipped_track_itself_stays_on_the_page(self):
        results = scores(skipped(A))
        assert 1001 in results
        assert scores()[1001] - results[1001] == pytest.approx(SKIP_STRENGTH)
        assert SKIP_STRENGTH < DISLIKE_STRENGTH

    def test_a_skip_halves_every_half_life_and_fades_to_nothing_within_a_month(self):
        candidate = [A]
        fresh = -listening_shift(candidate, skipped(near(A, 0.95)))[0]
        three_days = -listening_shift(candidate, skipped(near(A, 0.95), age_s=SKIP_HALF_LIFE_S))[0]
        month = -listening_shift(candidate, skipped(near(A, 0.95), age_s=30 * DAY))[0]
        assert fresh == pytest.approx(SKIP_STRENGTH * math.exp((0.95 - 1) / SKIP_WIDTH))
        assert three_days == pytest.approx(fresh / 2)
        assert month < fresh / 1000

    def test_many_skips_in_one_place_weigh_no_more_than_the_closest_one(self):
        one = listening_shift([A], skipped(near(A, 0.95)))[0]
        many = listening_shift([A], skipped(*[near(A, 0.95)] * 50, near(A, 0.9)))[0]
        assert many == pytest.approx(one)
        assert many >= -SKIP_STRENGTH

    def test_a_distant_skip_leaves_the_track_alone(self):
        assert -listening_shift([A], skipped(near(B, 0.95)))[0] < 1e-3


class TestFinish:
    def test_a_finish_lifts_its_neighbour_above_an_equally_close_track(self):
        after = scores(finished(near(B, 0.95)))
        assert after[1002] > after[1001]
        assert list(after) == [1002, 1001]

    def test_a_finish_says_less_than_a_skip(self):
        lift = listening_shift([A], finished(near(A, 0.95)))[0]
        drop = -listening_shift([A], skipped(near(A, 0.95)))[0]
        assert 0 < lift < drop
        assert listening_shift([A], finished(A))[0] == pytest.approx(FINISH_STRENGTH)

    def test_a_finish_halves_every_week(self):
        fresh = listening_shift([A], finished(near(A, 0.97)))[0]
        week = listening_shift([A], finished(near(A, 0.97), age_s=FINISH_HALF_LIFE_S))[0]
        assert week == pytest.approx(fresh / 2)

    def test_a_skip_and_a_finish_on_the_same_sound_leave_the_skip_ahead(self):
        both = ListeningSignals(
            skipped_vectors=np.array([A]), skipped_ages_s=[0.0], finished_vectors=np.array([A]), finished_ages_s=[0.0]
        )
        assert listening_shift([A], both)[0] == pytest.approx(FINISH_STRENGTH - SKIP_STRENGTH)


class TestWithoutSignals:
    def test_no_signals_and_empty_signals_change_nothing(self):
        assert scores(ListeningSignals()) == scores(None)
        assert listening_shift([A, B], None).tolist() == [0.0, 0.0]
        assert listening_shift(np.zeros((0, 3)), ListeningSignals()).shape == (0,)

    @pytest.mark.parametrize(
        "signals, message",
        [
            (ListeningSignals(skipped_vectors=np.array([A]), skipped_ages_s=[]), "one vector and one age"),
            (ListeningSignals(finished_vectors=np.array([A]), finished_ages_s=[math.nan]), "finite"),
            (ListeningSignals(skipped_vectors=np.array([[1.0, 0.0]]), skipped_ages_s=[0.0]), "dimension|columns|3"),
            (ListeningSignals(skipped_vectors=np.array([[0.0, 0.0, 0.0]]), skipped_ages_s=[0.0]), "zero vector"),
        ],
    )
    def test_malformed_signals_are_refused_with_a_sentence(self, signals, message):
        with pytest.raises(ValueError, match=message):
            listening_shift([A], signals)
