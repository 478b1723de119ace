"""One form per thing a listener sends a station: new station, thumb, seed change, knobs, plays."""

from __future__ import annotations

from django import forms

from discovery.lib.forms import AsciiIntegerField, TrackIdField, TrackIdsField, number_field, shown, text_field
from taste.stations.models import PLAY_MAX_SECONDS, Play

MAX_SEEDS = 10
SLIDER_KNOB_PREFIX = "slider-"


class StationForm(forms.Form):
    seed = TrackIdsField(
        max_count=MAX_SEEDS,
        error_messages={"required": "Pick at least one song to start a station."},
    )
    name = text_field("Name", 200, required=False)


class ThumbForm(forms.Form):
    track = TrackIdField()
    value = forms.ChoiceField(
        choices=[("up", "Up"), ("down", "Down"), ("clear", "Clear")],
        error_messages={
            "required": "A thumb is “up”, “down” or “clear”.",
            "invalid_choice": "A thumb is “up”, “down” or “clear”.",
        },
    )


class SeedChangeForm(forms.Form):
    track = TrackIdField()
    action = forms.ChoiceField(
        choices=[("add", "Add"), ("remove", "Remove")],
        required=False,
        error_messages={"invalid_choice": "A seed is either added or removed."},
    )

    def clean_action(self):
        return self.cleaned_data["action"] or "add"


class KnobsForm(forms.Form):
    """Pocket breadth and explore in [0, 1], and a knob in [-1, 1] for each lit slider the listener may use.

    Absent knobs stay as they are. A `slider-<id>` for any other slider is refused, so a request can never
    steer with a slider its sender may not see.
    """

    breadth = number_field("Breadth", 0.0, 1.0, required=False)
    explore = number_field("Explore", 0.0, 1.0, required=False)

    def __init__(self, data=None, *, usable_slider_ids=(), **kwargs):
        super().__init__(data, **kwargs)
        for slider_id in usable_slider_ids:
            self.fields[f"{SLIDER_KNOB_PREFIX}{slider_id}"] = number_field("A slider knob", -1.0, 1.0, required=False)

    def clean(self):
        cleaned_data = super().clean()
        for key in self.data:
            if key.startswith(SLIDER_KNOB_PREFIX) and key not in self.fields:
                slider = shown(key.removeprefix(SLIDER_KNOB_PREFIX))
                raise forms.ValidationError(
                    f"Slider {slider} cannot steer this station: it is not yours, not public, or not lit."
                )
        return cleaned_data

    def knobs(self) -> dict:
        """{"breadth": x or None, "explore": y or None, "sliders": {slider id: weight}} of the valid form."""
        sliders = {
            int(name.removeprefix(SLIDER_KNOB_PREFIX)): value
            for name, value in self.cleaned_data.items()
            if name.startswith(SLIDER_KNOB_PREFIX) and value is not None
        }
        return {"breadth": self.cleaned_data["breadth"], "explore": self.cleaned_data["explore"], "sliders": sliders}


def station_id_field(**kwargs) -> AsciiIntegerField:
    message = "That is not a station id."
    return AsciiIntegerField(min_value=1, error_messages={"invalid": message, "min_value": message}, **kwargs)


class PlayForm(forms.Form):
    """A play the player reports when a track ends: POST /plays/ (track, station, seconds, ended)."""

    track = TrackIdField()
    station = station_id_field(required=False)
    seconds = number_field("Seconds played", 0.0, PLAY_MAX_SECONDS)
    ended = forms.ChoiceField(
        choices=[(Play.FINISHED, "Finished"), (Play.SKIPPED, "Skipped")],
        error_messages={
            "required": "Say how the play ended: “finished” or “skipped”.",
            "invalid_choice": "A play ends “finished” or “skipped”.",
        },
    )


class NowPlayingForm(forms.Form):
    """The track a station's radio starts: POST /plays/now/ (track, station; without a station nothing is kept)."""

    track = TrackIdField()
    station = station_id_field(required=False)


class HistoryPageForm(forms.Form):
    page = AsciiIntegerField(
        min_value=1, required=False,
        error_messages={"invalid": "A page is a whole number from 1.", "min_value": "A page is a whole number from 1."},
    )
