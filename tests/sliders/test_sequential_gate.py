"""The gate as a sequential test: its p-value, its level per look, its false-light rate over a whole session of
random ratings, how soon it lights a clear word, and what it tells the listener meanwhile."""

import numpy as np
import pytest

from taste.sliders import learning
from taste.sliders.learning import gate_budget, gate_level, permutation_test, slider_skill
from tests.sliders.test_learning import EMBEDDINGS, ratings_along_hidden_direction, structured_unit_vectors


def two_soundtracks(count_each: int = 12, dim: int = 200, seed: int = 0):
    """Two soundtracks: each a tight group of pieces around its own point of a musicnn-like space."""
    centres = structured_unit_vectors(2, dim, seed)
    rng = np.random.default_rng(seed + 1)
    groups = [centre + 0.25 * rng.normal(size=(count_each, dim)) / np.sqrt(dim) * 2 for centre in centres]
    vectors = np.vstack(groups)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_the_level_never_rises_and_a_session_spends_at_most_its_union_bound():
    levels = [gate_level(n) for n in range(learning.GATE_MIN_RATINGS, 200)]
    assert all(later <= earlier for earlier, later in zip(levels, levels[1:]))
    assert gate_level(10) == learning.GATE_LEVEL_AT_10
    assert gate_budget() == pytest.approx(sum(gate_level(n) for n in range(10, 61)))
    # At most a 1 % chance that random ratings light the slider at any look of a 60-rating session.
    assert gate_budget() <= 0.01


def test_the_permutation_p_value_holds_its_level_on_random_ratings():
    vectors = structured_unit_vectors(400, seed=3)
    rng = np.random.default_rng(3)
    passed = 0
    for index in range(300):
        rated = rng.choice(len(vectors), 16, replace=False)
        passed += permutation_test(vectors[rated], rng.integers(1, 6, 16), level=0.2, seed=index).passed
    # 60 expected of 300 (sd 7): a p-value that undercounted the shuffles would pass far more.
    assert 35 <= passed <= 80


def test_random_ratings_rarely_light_a_slider_however_often_it_is_looked_at():
    vectors = structured_unit_vectors(600, seed=4)
    rng = np.random.default_rng(4)
    lit_sessions = 0
    for _ in range(100):
        order = rng.choice(len(vectors), 40, replace=False)
        ratings = rng.integers(1, 6, 40)
        lit_sessions += any(
            slider_skill(vectors[order[:n]], ratings[:n]).lit for n in range(learning.GATE_MIN_RATINGS, 41)
        )
    # Looked at after each of 33 ratings: a gate that asked 0.5 % of every look alone lights about 5 of these.
    assert lit_sessions <= 2


def test_a_clear_two_soundtrack_word_lights_by_ten_ratings():
    lit_by_ten = 0
    for seed in range(20):
        vectors = two_soundtracks(seed=seed)
        rng = np.random.default_rng(seed)
        order = np.empty(10, dtype=int)
        order[0::2] = rng.permutation(12)[:5]
        order[1::2] = 12 + rng.permutation(12)[:5]
        ratings = np.where(order < 12, rng.integers(4, 6, 10), rng.integers(1, 3, 10))
        lit_by_ten += any(slider_skill(vectors[order[:n]], ratings[:n]).lit for n in range(8, 11))
    assert lit_by_ten >= 18


@pytest.mark.parametrize("load_vectors", EMBEDDINGS)
def test_ratings_along_a_direction_light_the_slider_and_say_how_well_it_orders(load_vectors):
    vectors = load_vectors()
    for seed in range(5):
        ratings, scores = ratings_along_hidden_direction(vectors, seed=200 + seed)
        order = np.random.default_rng(seed).permutation(len(vectors))
        rated, unseen = order[:40], order[40:]
        skill = slider_skill(vectors[rated], ratings[rated])
        assert skill.lit, skill
        assert skill.p_value <= skill.level and skill.agreement >= 0.7
        assert skill.needs.startswith("Lit: given two tracks it has not seen, one you would rate at least two ")
        assert skill.needs.endswith(" times out of ten. It can sort the catalogue now.")
        assert learning.spearman(learning.predict(skill.model, vectors[unseen]), scores[unseen]) >= 0.7


def test_a_slider_with_few_ratings_stays_dark_and_asks_for_more_at_both_ends():
    vectors = structured_unit_vectors(5)
    skill = slider_skill(vectors, [3, 3, 4, 3, 3], low_label="clearly not dreamy", high_label="clearly dreamy")
    assert not skill.lit and skill.ratings == 5 and skill.p_value is None and skill.more == 5
    assert skill.needs == "Rate at least 5 more tracks, including some at both ends of the scale."


def test_a_slider_lacking_one_end_names_it():
    vectors = structured_unit_vectors(9)
    skill = slider_skill(vectors, [4, 5, 4, 5, 3, 3, 1, 4, 5], low_label="clearly not dreamy")
    assert not skill.lit
    assert skill.needs == "Rate at least 1 more track, including one you would call clearly not dreamy."


def test_ratings_that_do_not_follow_the_sound_say_so():
    vectors = structured_unit_vectors(12, seed=9)
    skill = slider_skill(vectors, [1, 5] * 6, low_label="clearly not dreamy", high_label="clearly dreamy")
    assert not skill.lit and skill.more is None
    assert skill.needs.startswith("Your ratings do not follow the sound yet")


def test_a_promising_dark_slider_says_about_how_many_more_it_needs_and_that_many_light_it():
    vectors = two_soundtracks(seed=1)
    # Ten ratings of two soundtracks in turn, one of them the listener's slip (a calm piece rated 4).
    order = [0, 12, 1, 13, 2, 14, 3, 15, 4, 16]
    ratings = [5, 1, 4, 2, 5, 1, 4, 4, 5, 1]
    skill = slider_skill(vectors[order], ratings, low_label="calm", high_label="wild")
    assert not skill.lit and skill.p_value > skill.level and skill.more is not None and 1 <= skill.more <= 14
    assert skill.needs.startswith("Rate about ") and skill.needs.endswith(" you would call calm.")
    # As many more ratings as it asked for, as consistent as the listener's: then it lights.
    more = [track for pair in zip(range(5, 12), range(17, 24)) for track in pair][: skill.more]
    later = slider_skill(vectors[order + more], ratings + ([5, 1] * 7)[: skill.more])
    assert later.lit, later


def test_the_gate_gives_the_same_answer_for_the_same_ratings():
    vectors = structured_unit_vectors(30, seed=10)
    ratings, _ = ratings_along_hidden_direction(vectors, seed=10, noise=1.5)
    first, second = slider_skill(vectors, ratings), slider_skill(vectors, ratings)
    assert first.p_value is not None
    assert (first.skill, first.p_value, first.lit, first.needs) == (
        second.skill, second.p_value, second.lit, second.needs
    )


def test_past_the_session_the_gate_tests_a_sample_of_the_ratings():
    vectors = structured_unit_vectors(300, seed=12)
    ratings, _ = ratings_along_hidden_direction(vectors, seed=12)
    skill = slider_skill(vectors[:200], ratings[:200])
    assert skill.lit and skill.ratings == 200
    sample = learning._session_sample(200, learning.GATE_SHUFFLE_SEED)
    assert len(sample) == learning.GATE_SESSION == len(set(sample.tolist()))
    alone = permutation_test(vectors[sample], ratings[sample], level=skill.level)
    assert alone.p_value == skill.p_value


def test_a_slider_lit_at_ten_ratings_stays_lit_at_the_next_while_its_skill_holds():
    vectors = two_soundtracks(seed=2)
    order = [0, 12, 1, 13, 2, 14, 3, 15, 4, 16, 5]
    ratings = [5, 1, 4, 2, 5, 1, 5, 2, 4, 1, 5]
    at_ten = slider_skill(vectors[order[:10]], ratings[:10])
    assert at_ten.lit, at_ten
    # The eleventh look alone asks thirty times less of the p-value than the tenth: a clear word cannot meet it.
    eleventh = permutation_test(vectors[order], ratings, level=learning.gate_level(11))
    assert not eleventh.passed
    at_eleven = slider_skill(vectors[order], ratings)
    assert at_eleven.lit and at_eleven.p_value == at_ten.p_value and at_eleven.level == learning.gate_level(10)


def test_a_slider_lit_at_ten_goes_dark_when_later_ratings_undo_its_skill():
    vectors = two_soundtracks(seed=2)
    order = [0, 12, 1, 13, 2, 14, 3, 15, 4, 16] + [5, 17, 6, 18, 7, 19, 8, 20, 9, 21]
    ratings = [5, 1, 4, 2, 5, 1, 5, 2, 4, 1] + [1, 5, 2, 4, 1, 5, 1, 5, 2, 4]
    assert slider_skill(vectors[order[:10]], ratings[:10]).lit
    assert not slider_skill(vectors[order], ratings).lit
