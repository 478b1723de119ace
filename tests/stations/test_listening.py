from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from discovery.engine import candidates as engine_candidates
from discovery.engine.listening import FINISH_STRENGTH, SKIP_STRENGTH
from discovery.lib.forms import ListenerError
from taste.stations import listening
from taste.stations.listening import (
    listening_context,
    listening_signals,
    plays_of,
    recently_played_ids,
    record_play,
    set_now_playing,
    undo_play_signal,
)
from taste.stations.models import Play, Station
from taste.stations.recommendations import recommendations
from taste.stations.services import create_station
from tests.catalogue import make_catalogue


@pytest.fixture
def catalogue(db):
    return make_catalogue()


@pytest.fixture
def tracks(catalogue):
    _, clusters = catalogue
    return clusters


@pytest.fixture
def station(tracks, owner):
    return create_station(owner, [tracks[0][0].pk, tracks[0][1].pk])


def scores(station, **options) -> dict[int, float]:
    """Every candidate's score: a page as long as the catalogue, with no artist cap to crowd a track out."""
    with override_settings(MAX_TRACKS_PER_ARTIST=40):
        return {rec.track.pk: rec.ranked.score for rec in recommendations(station, page_size=40, **options)}


def age(play: Play, days: float) -> None:
    Play.objects.filter(pk=play.pk).update(recorded=timezone.now() - timedelta(days=days))


@pytest.mark.django_db
class TestRecordPlay:
    def test_it_records_track_station_time_seconds_and_how_it_ended(self, station, owner, tracks):
        play = record_play(owner, tracks[1][0].pk, station, 12.5, Play.SKIPPED)
        play.refresh_from_db()
        assert (play.user, play.station, play.track, play.seconds, play.ended) == (
            owner, station, tracks[1][0], 12.5, "skipped"
        )
        assert play.recorded - play.started == pytest.approx(timedelta(seconds=12.5), abs=timedelta(seconds=1))
        assert not play.signal_undone

    def test_a_play_outside_a_station_has_none(self, owner, tracks):
        assert record_play(owner, tracks[0][3].pk, None, 200.0, Play.FINISHED).station is None

    def test_a_hidden_or_unknown_track_is_refused_with_a_sentence(self, station, owner, tracks):
        hidden = tracks[2][0]
        hidden.hidden = True
        hidden.save()
        for track_id in (hidden.pk, 999_999):
            with pytest.raises(ListenerError, match=f"There is no track {track_id}."):
                record_play(owner, track_id, station, 10.0, Play.FINISHED)
        assert not Play.objects.exists()

    def test_the_end_of_the_track_playing_now_clears_now_playing_but_another_track_does_not(
        self, station, owner, tracks
    ):
        set_now_playing(station, tracks[0][5].pk)
        record_play(owner, tracks[0][4].pk, station, 200.0, Play.FINISHED)
        assert Station.objects.get(pk=station.pk).now_playing_id == tracks[0][5].pk
        record_play(owner, tracks[0][5].pk, station, 200.0, Play.FINISHED)
        station.refresh_from_db()
        assert station.now_playing is None and station.now_playing_since is None


@pytest.mark.django_db
class TestNowPlaying:
    def test_it_keeps_the_track_and_since_when(self, station, tracks):
        set_now_playing(station, tracks[0][6].pk)
        station.refresh_from_db()
        assert station.now_playing == tracks[0][6]
        assert timezone.now() - station.now_playing_since < timedelta(seconds=5)

    def test_an_unknown_track_is_refused(self, station):
        with pytest.raises(ListenerError, match="There is no track 999999."):
            set_now_playing(station, 999_999)


@pytest.mark.django_db
class TestRecentlyPlayed:
    def test_it_is_the_last_distinct_tracks_of_that_station_and_the_one_playing_now(self, station, owner, tracks):
        other = create_station(owner, [tracks[1][0].pk])
        for track in [tracks[0][2], tracks[0][3], tracks[0][2], tracks[0][4]]:
            record_play(owner, track.pk, station, 100.0, Play.FINISHED)
        record_play(owner, tracks[1][5].pk, other, 100.0, Play.FINISHED)
        set_now_playing(station, tracks[0][7].pk)
        assert recently_played_ids(station, span=2) == {tracks[0][4].pk, tracks[0][2].pk, tracks[0][7].pk}
        assert recently_played_ids(station, span=10) == {t.pk for t in [tracks[0][2], tracks[0][3], tracks[0][4],
                                                                          tracks[0][7]]}
        assert recently_played_ids(other) == {tracks[1][5].pk}

    def test_the_span_comes_from_the_setting(self, station, owner, tracks):
        for track in tracks[0][2:6]:
            record_play(owner, track.pk, station, 100.0, Play.FINISHED)
        with override_settings(RADIO_NO_REPEAT_PLAYS=3):
            assert recently_played_ids(station) == {t.pk for t in tracks[0][3:6]}
        with override_settings(RADIO_NO_REPEAT_PLAYS=0):
            assert recently_played_ids(station) == set()


@pytest.mark.django_db
class TestListeningSignals:
    def test_early_skips_and_finishes_count_and_late_skips_do_not(self, station, owner, tracks):
        record_play(owner, tracks[0][2].pk, station, 29.9, Play.SKIPPED)
        record_play(owner, tracks[0][3].pk, station, 30.0, Play.SKIPPED)
        record_play(owner, tracks[0][4].pk, station, 200.0, Play.FINISHED)
        record_play(owner, tracks[0][5].pk, None, 3.0, Play.SKIPPED)
        signals = listening_signals(station)
        assert [pk for pk, _ in signals.early_skips] == [tracks[0][2].pk]
        assert [pk for pk, _ in signals.finishes] == [tracks[0][4].pk]
        assert all(0 <= seconds < 5 for _, seconds in signals.early_skips + signals.finishes)

    def test_a_tracks_latest_play_decides_and_an_undone_one_says_nothing(self, station, owner, tracks):
        skip = record_play(owner, tracks[0][2].pk, station, 5.0, Play.SKIPPED)
        age(skip, 1)
        record_play(owner, tracks[0][2].pk, station, 200.0, Play.FINISHED)
        undone = record_play(owner, tracks[0][3].pk, station, 5.0, Play.SKIPPED)
        undo_play_signal(undone)
        signals = listening_signals(station)
        assert signals.early_skips == [] and [pk for pk, _ in signals.finishes] == [tracks[0][2].pk]

    def test_only_the_most_recent_plays_of_each_kind_count(self, station, owner, tracks, monkeypatch):
        monkeypatch.setattr(listening, "SIGNAL_TRACKS", 2)
        for index in range(2, 6):
            age(record_play(owner, tracks[0][index].pk, station, 200.0, Play.FINISHED), 6 - index)
        assert [pk for pk, _ in listening_signals(station).finishes] == [tracks[0][5].pk, tracks[0][4].pk]

    def test_ages_are_seconds_and_plays_past_the_horizon_are_left_out(self, station, owner, tracks):
        age(record_play(owner, tracks[0][2].pk, station, 5.0, Play.SKIPPED), 2)
        age(record_play(owner, tracks[0][3].pk, station, 5.0, Play.SKIPPED), 61)
        ((track_id, seconds),) = listening_signals(station).early_skips
        assert track_id == tracks[0][2].pk and seconds == pytest.approx(2 * 86400, abs=5)


@pytest.mark.django_db
class TestRankingFeelsThePlays:
    def test_an_early_skip_lowers_the_track_a_little_without_removing_it_and_undo_restores_it(
        self, station, owner
    ):
        before = scores(station)
        track_id = next(iter(before))
        play = record_play(owner, track_id, station, 4.0, Play.SKIPPED)
        after = scores(station)
        assert track_id in after
        assert before[track_id] - after[track_id] == pytest.approx(SKIP_STRENGTH, abs=1e-4)
        undo_play_signal(play)
        assert scores(station) == pytest.approx(before, abs=1e-9)

    def test_a_finish_lifts_the_track_a_little(self, station, owner):
        before = scores(station)
        track_id = list(before)[5]
        record_play(owner, track_id, station, 200.0, Play.FINISHED)
        assert scores(station)[track_id] - before[track_id] == pytest.approx(FINISH_STRENGTH, abs=1e-4)

    def test_excluded_tracks_are_left_out_and_the_pool_widens_so_the_page_stays_full(
        self, station, monkeypatch
    ):
        # A small pool, so that leaving out ten tracks would leave too few without the wider query.
        monkeypatch.setattr(engine_candidates, "THROUGHLINE_CANDIDATES", 14)
        monkeypatch.setattr(engine_candidates, "ANCHOR_CANDIDATES", 4)
        first = [rec.track.pk for rec in recommendations(station, page_size=10)]
        assert len(first) == 10
        page = [rec.track.pk for rec in recommendations(station, page_size=10, exclude_ids=set(first))]
        assert len(page) == 10 and not set(page) & set(first)


@pytest.mark.django_db
class TestRailAndHistory:
    def test_the_rail_lists_early_skips_and_finishes_that_still_count_newest_first(self, station, owner, tracks):
        age(record_play(owner, tracks[0][2].pk, station, 5.0, Play.SKIPPED), 0.01)
        record_play(owner, tracks[0][2].pk, station, 5.0, Play.SKIPPED)  # once in the rail, as in the ranking
        age(record_play(owner, tracks[0][8].pk, station, 5.0, Play.SKIPPED), 0.01)
        record_play(owner, tracks[0][8].pk, station, 200.0, Play.FINISHED)  # its latest play decides
        undo_play_signal(record_play(owner, tracks[0][3].pk, station, 5.0, Play.SKIPPED))
        record_play(owner, tracks[0][4].pk, station, 90.0, Play.SKIPPED)
        record_play(owner, tracks[0][5].pk, station, 200.0, Play.FINISHED)
        record_play(owner, tracks[0][6].pk, station, 200.0, Play.FINISHED)
        age(record_play(owner, tracks[0][7].pk, station, 201.0, Play.FINISHED), 0.125)
        context = listening_context(station)
        assert [p.track for p in context["recent_skips"]] == [tracks[0][2]]
        assert [p.track for p in context["recent_finishes"]] == [tracks[0][6], tracks[0][5], tracks[0][8], tracks[0][7]]
        assert context["recent_skips"][0].ago == "just now"
        assert context["recent_finishes"][3].ago == "3\xa0hours ago"

    def test_history_is_the_users_own_plays_of_visible_tracks(self, station, owner, outsider, tracks):
        mine = record_play(owner, tracks[0][2].pk, station, 5.0, Play.SKIPPED)
        hidden = record_play(owner, tracks[0][3].pk, None, 5.0, Play.SKIPPED)
        record_play(outsider, tracks[0][4].pk, None, 5.0, Play.SKIPPED)
        hidden.track.hidden = True
        hidden.track.save()
        assert list(plays_of(owner)) == [mine]
