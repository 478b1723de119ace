import pytest
from django.db import IntegrityError, transaction

from tracks.models import Track


def make_track(**fields):
    values = {"title": "Elvish Theme", "artist": "Wesnoth", "source": Track.Source.FOLDER, "source_key": "a.ogg"}
    values.update(fields)
    return Track.objects.create(**values)


@pytest.mark.django_db
class TestTrackConstraints:
    def test_it_rejects_a_second_track_with_the_same_source_and_key(self):
        make_track()
        with pytest.raises(IntegrityError, match="track_unique_source_key"):
            make_track(title="Another title")

    def test_the_same_key_may_appear_under_another_source(self):
        make_track()
        make_track(source=Track.Source.UPLOAD)
        assert Track.objects.count() == 2

    @pytest.mark.parametrize(
        "fields, constraint",
        [
            ({"source": "napster"}, "track_source_known"),
            ({"source_key": ""}, "track_source_key_not_empty"),
            ({"status": "lost"}, "track_status_known"),
            ({"status": Track.Status.FAILED, "error": ""}, "track_failure_has_reason"),
            ({"duration_s": -1.0}, "track_duration_not_negative"),
            ({"content_sha256": "not-a-hash"}, "track_sha256_is_hex"),
        ],
    )
    def test_it_rejects_rows_that_break_a_rule(self, fields, constraint):
        with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
            make_track(**fields)

    def test_a_track_cannot_be_its_own_duplicate(self):
        track = make_track()
        track.duplicate_of = track
        with pytest.raises(IntegrityError, match="track_not_duplicate_of_itself"):
            track.save()

    def test_a_failed_track_keeps_its_reason(self):
        track = make_track(status=Track.Status.FAILED, error="The file is empty (0 bytes).")
        assert Track.objects.get(pk=track.pk).error == "The file is empty (0 bytes)."
