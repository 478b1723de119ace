"""One form per request the map and path pages take."""

from __future__ import annotations

from django import forms

from discovery.lib.forms import AsciiIntegerField, TrackIdField, shown, text_field

MAX_SELECTION = 2000  # the browser sends an even sample of a larger lasso: plenty to span it with ten seeds
MAX_AVOID = 200
MAX_PATH_STEPS = 50


class CommaTrackIdsField(forms.CharField):
    """Track ids as one comma-separated value (a lasso can hold thousands: one field, not thousands)."""

    def __init__(self, *, max_count: int, **kwargs):
        self.max_count = max_count
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        single = TrackIdField()
        ids = list(dict.fromkeys(single.clean(part) for part in text.split(",") if part.strip()))
        if len(ids) > self.max_count:
            raise forms.ValidationError(f"At most {self.max_count} tracks at a time; this was {len(ids)}.")
        return ids


class ModelChoiceForm(forms.Form):
    model = forms.SlugField(required=False, max_length=64, error_messages={"invalid": "That is not a model name."})


class MapPageForm(ModelChoiceForm):
    station = AsciiIntegerField(
        required=False, min_value=1, error_messages={"invalid": "“station” must be a station number."}
    )


class LocateForm(ModelChoiceForm):
    q = text_field("Search", 200, required_message="Type a title, an artist or an album to find on the map.")


class SelectionForm(forms.Form):
    tracks = CommaTrackIdsField(
        max_count=MAX_SELECTION, error_messages={"required": "Draw a lasso around some points first."}
    )

    def clean_tracks(self):
        ids = self.cleaned_data["tracks"]
        if not ids:
            raise forms.ValidationError("Draw a lasso around some points first.")
        return ids


class PathForm(forms.Form):
    from_ = TrackIdField(error_messages={"required": "Say which track the path starts from (“from”)."})
    to = TrackIdField(error_messages={"required": "Say which track the path goes to (“to”)."})
    steps = AsciiIntegerField(
        required=False,
        min_value=2,
        max_value=MAX_PATH_STEPS,
        error_messages={
            key: f"“steps” must be a whole number from 2 to {MAX_PATH_STEPS}."
            for key in ("invalid", "min_value", "max_value")
        },
    )
    per_artist = AsciiIntegerField(
        required=False,
        min_value=1,
        max_value=10,
        error_messages={
            key: "“per_artist” must be a whole number from 1 to 10." for key in ("invalid", "min_value", "max_value")
        },
    )
    avoid = CommaTrackIdsField(max_count=MAX_AVOID)

    def __init__(self, data=None, **kwargs):
        # "from" is a Python keyword, so the field is from_ and the parameter keeps its plain name.
        if data is not None:
            data = data.copy()
            if "from" in data:
                data["from_"] = data["from"]
        super().__init__(data, **kwargs)

    def clean(self):
        data = super().clean()
        if data.get("from_") and data.get("from_") == data.get("to"):
            raise forms.ValidationError(f"A path joins two different tracks; both ends are {shown(data['to'])}.")
        data["steps"] = data.get("steps") or 10
        data["per_artist"] = data.get("per_artist") or 2
        return data
