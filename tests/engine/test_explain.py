import pytest

from discovery.engine.explain import (
    DISLIKE_CAVEAT,
    TAG_MIN_PROBABILITY,
    closeness_words,
    closer_than_percent,
    corpus_percentile,
    mentions_dislike,
    shared_tags,
    why_parts,
    why_text,
)

# What musicnn says of most of a catalogue: "instrumental" and "ambient" everywhere, the rest rarer.
CATALOGUE = {"instrumental": 0.30, "ambient": 0.25, "electronic": 0.2, "epic": 0.02, "strings": 0.03, "sad": 0.01}


class TestSharedTags:
    def test_a_tag_common_in_the_catalogue_loses_to_a_rarer_shared_one(self):
        track = {"instrumental": 0.6, "ambient": 0.5, "epic": 0.12}
        anchor = {"instrumental": 0.7, "ambient": 0.45, "epic": 0.1}
        # By probability "instrumental" and "ambient" win; against the catalogue "epic" is the telling one
        # (lift 0.1 / 0.02 = 5, against 0.6 / 0.3 = 2 and 0.45 / 0.25 = 1.8).
        assert shared_tags(track, anchor) == ("instrumental", "ambient")
        assert shared_tags(track, anchor, CATALOGUE) == ("epic", "instrumental")

    def test_a_tag_no_commoner_on_the_pair_than_in_the_catalogue_is_not_quoted(self):
        track = {"instrumental": 0.35, "ambient": 0.3}
        anchor = {"instrumental": 0.4, "ambient": 0.3}
        assert shared_tags(track, anchor, CATALOGUE) == ()

    def test_a_noise_tag_never_shows_however_rare_it_is(self):
        below_floor = TAG_MIN_PROBABILITY * 0.9
        track = {"sad": below_floor, "strings": 0.2}
        anchor = {"sad": 0.5, "strings": 0.2}
        assert shared_tags(track, anchor, CATALOGUE) == ("strings",)
        assert shared_tags({"unheard-of": below_floor}, {"unheard-of": below_floor}, CATALOGUE) == ()

    def test_a_tag_the_catalogue_sample_never_carried_counts_as_rare(self):
        assert shared_tags({"epic": 0.2, "polka": 0.2}, {"epic": 0.2, "polka": 0.2}, CATALOGUE) == ("polka", "epic")

    def test_only_tags_among_the_strongest_of_both_tracks_are_shared(self):
        track = {"a": 0.9, "b": 0.8, "c": 0.7, "d": 0.6}
        anchor = {"d": 1.0, "c": 0.3, "a": 0.08}
        assert shared_tags(track, anchor, top_n=2) == ()
        assert shared_tags(track, anchor, top_n=3) == ("c", "a")
        assert shared_tags(track, anchor, top_n=4) == ("d", "c")
        assert shared_tags(track, {"f": 1.0}) == ()
        assert shared_tags(None, anchor) == ()

    def test_a_tag_quoted_on_the_lines_above_gives_way_to_the_next_most_telling(self):
        track = anchor = {"epic": 0.2, "strings": 0.2, "sad": 0.2}
        # Lifts: sad 20, epic 10, strings 6.7.
        assert shared_tags(track, anchor, CATALOGUE) == ("sad", "epic")
        # Each line above that quotes a tag halves its lift.
        assert shared_tags(track, anchor, CATALOGUE, quoted={"sad": 2}) == ("epic", "strings")
        assert shared_tags(track, anchor, CATALOGUE, quoted={"sad": 1, "epic": 2}) == ("sad", "strings")

    def test_a_tag_that_repeats_a_chosen_one_under_another_ending_is_skipped(self):
        track = anchor = {"female vocalists": 0.3, "female vocalist": 0.3, "electro": 0.2, "electronic": 0.25}
        assert shared_tags(track, anchor, limit=3) == ("female vocalist", "electronic")


class TestCloseness:
    def test_the_percentile_is_the_share_of_the_corpus_less_similar_to_the_anchor(self):
        sample = [[0.6, 0.8], [0.0, 1.0], [-1.0, 0.0], [1.0, 0.0]]
        percentiles = corpus_percentile([0.6, 1.0, -1.0], [[1.0, 0.0], [2.0, 0.0], [1.0, 0.0]], sample)
        assert percentiles.tolist() == [0.5, 0.75, 0.0]

    @pytest.mark.parametrize("percentile, percent", [(1.0, 99), (0.995, 99), (0.99, 99), (0.95, 95), (0.29, 29)])
    def test_closer_than_percent_rounds_down_and_never_claims_the_whole_catalogue(self, percentile, percent):
        assert closer_than_percent(percentile) == percent

    def test_closeness_is_said_in_words_and_left_out_when_it_says_nothing(self):
        assert closeness_words(0.992) == "closer than 99 % of the catalogue"
        assert closeness_words(0.5) == "closer than 50 % of the catalogue"
        assert closeness_words(0.49) == ""
        assert closeness_words(None) == ""


class TestWording:
    def test_a_seed_reads_as_your_seed_with_closeness_and_tags(self):
        assert why_text("Battle Epic", "seed", 0.993, ["orchestral", "epic"]) == (
            "Sounds like “Battle Epic”, your seed — closer than 99 % of the catalogue · both: orchestral, epic"
        )

    def test_a_liked_anchor_reads_as_one_you_liked_and_tags_read_in_lower_case(self):
        text = why_text("Night Drive", "like", None, ["Hip-Hop"])
        assert text == "Sounds like “Night Drive”, which you liked · both: hip-hop"

    def test_a_track_picked_for_novelty_is_new_ground_near_its_anchor(self):
        assert why_text("Battle Epic", "seed", 0.7, for_novelty=True) == (
            "New ground near “Battle Epic”, your seed — closer than 70 % of the catalogue"
        )

    def test_notes_follow_in_order_and_the_line_is_its_parts_joined(self):
        parts = why_parts("<b>", "seed", None, ["epic"], slider_note="more dreamy", dislike_caveat=True)
        assert parts == ("Sounds like “<b>”, your seed", "both: epic", "more dreamy", DISLIKE_CAVEAT)
        assert why_text("<b>", "seed", None, ["epic"], slider_note="more dreamy", dislike_caveat=True) == (
            "Sounds like “<b>”, your seed · both: epic · more dreamy · a little like one you turned down"
        )

    def test_no_line_carries_a_number_without_words(self):
        text = why_text("Seed A", "seed", 0.91, ["rock"])
        assert "0.91" not in text and "top" not in text


class TestDislikeRule:
    @pytest.mark.parametrize(
        "position, penalty, dislike_cosine, anchor_cosine, said",
        [
            (1, 0.05, 0.95, 0.92, True),  # nearer the turned-down track than its anchor, and it cost places
            (0, 0.05, 0.95, 0.92, False),  # never on the first result
            (1, 0.05, 0.90, 0.92, False),  # nearer its anchor: the likeness is the anchor's too
            (1, 0.005, 0.95, 0.92, False),  # a push too small to move it
        ],
    )
    def test_a_dislike_is_a_trailing_caveat_only_when_it_is_worth_one(
        self, position, penalty, dislike_cosine, anchor_cosine, said
    ):
        assert mentions_dislike(position, penalty, dislike_cosine, anchor_cosine, min_penalty=0.01) is said

    def test_the_caveat_never_leads_the_line(self):
        assert why_parts("Seed A", "seed", 0.99, ["epic"], dislike_caveat=True)[0].startswith("Sounds like “Seed A”")
