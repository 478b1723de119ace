"""One form per thing a listener sends a slider: a new slider, a rating, which end of a ranking."""

from __future__ import annotations

from django import forms

from discovery.lib.forms import AsciiIntegerField, TrackIdField, text_field
from taste.sliders.models import Slider

RANKING_MAX = 500
RATING_MESSAGE = "A rating is a whole number from 1 to 5."


class SliderForm(forms.Form):
    name = text_field("Word", 100, required_message="Give the slider a word, e.g. “dreamy”.")
    low_label = text_field("Low end", 100, required_message="Say what a 1 means, e.g. “not dreamy at all”.")
    high_label = text_field("High end", 100, required_message="Say what a 5 means, e.g. “completely dreamy”.")
    description = text_field("Description", 2000, required=False, multiline=True)
    public = forms.BooleanField(required=False)

    def __init__(self, data=None, *, owner, **kwargs):
        super().__init__(data, **kwargs)
        self.owner = owner

    def clean_name(self):
        name = self.cleaned_data["name"]
        if Slider.objects.filter(owner=self.owner, name__iexact=name).exists():
            raise forms.ValidationError(f"You already have a slider called “{name}”.")
        return name


class RatingForm(forms.Form):
    track = TrackIdField()
    value = AsciiIntegerField(
        min_value=1,
        max_value=5,
        error_messages={key: RATING_MESSAGE for key in ("required", "invalid", "min_value", "max_value")},
    )
    # What to answer with: the slider page's status card, or one row of a track's rating widget.
    reply = forms.ChoiceField(
        choices=[("status", "status"), ("row", "row")], required=False,
        error_messages={"invalid_choice": "The reply is “status” or “row”."},
    )

    def clean_reply(self):
        return self.cleaned_data["reply"] or "status"


class RankingForm(forms.Form):
    """`?order=high|low&limit=N` of a slider's ranking (both optional)."""

    order = forms.ChoiceField(
        choices=[("high", "Most"), ("low", "Least")],
        required=False,
        error_messages={"invalid_choice": "The order is “high” or “low”."},
    )
    limit = AsciiIntegerField(
        min_value=1,
        max_value=RANKING_MAX,
        required=False,
        error_messages={
            key: f"limit must be a whole number between 1 and {RANKING_MAX}."
            for key in ("invalid", "min_value", "max_value")
        },
    )

    def clean_order(self):
        return self.cleaned_data["order"] or "high"
