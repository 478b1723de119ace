"""Form fields and the one error type for requests a listener can correct.

Views validate every request with a Django form built from these fields; services receive clean values and
raise `ListenerError` for what only they can check (a track that is hidden, a slider that already exists).
Either way the listener reads one sentence saying what to change, with a 400.
"""

from __future__ import annotations

import re
import unicodedata

from django import forms

# Numbers as a listener types them in a form: ASCII digits only. Python's int() and float() also take "١",
# "３" and "1_0", which no one means as a track id or a knob value.
_ASCII_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)
_ASCII_DECIMAL = re.compile(r"\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*", re.ASCII)
SHOWN_VALUE_LENGTH = 40


class ListenerError(ValueError):
    """A request a listener can correct; the message says how (shown with a 400)."""


def first_error(form: forms.Form) -> str:
    """The first of a form's errors, as the sentence a listener reads."""
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return "Something in the request is not right; reload the page and try again."


def cleaned(form: forms.Form) -> dict:
    """The form's cleaned data, or ListenerError with its first error."""
    if not form.is_valid():
        raise ListenerError(first_error(form))
    return form.cleaned_data


def shown(value) -> str:
    """A value the listener sent, cut short for an error message (a 1 MB value is not echoed whole)."""
    text = str(value)
    return text if len(text) <= SHOWN_VALUE_LENGTH else text[: SHOWN_VALUE_LENGTH - 1] + "…"


class AsciiIntegerField(forms.IntegerField):
    """A whole number written with ASCII digits."""

    def to_python(self, value):
        if value not in self.empty_values and not _ASCII_INTEGER.fullmatch(str(value)):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class AsciiFloatField(forms.FloatField):
    """A finite decimal number written with ASCII digits (no NaN, no ∞, no "１.５")."""

    def to_python(self, value):
        if value not in self.empty_values and not _ASCII_DECIMAL.fullmatch(str(value)):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


def refuse_control_characters(multiline: bool):
    """A validator refusing control characters (a NUL, an escape, a stray line break in a one-line name):
    PostgreSQL refuses NUL, and the rest break playlists and pages."""
    allowed = {"\t", "\n", "\r"} if multiline else set()

    def validate(value: str) -> None:
        if any(unicodedata.category(char) == "Cc" and char not in allowed for char in value):
            raise forms.ValidationError("Remove the control characters (such as line breaks) from it.")

    return validate


class TrackIdField(AsciiIntegerField):
    """One track id: a whole number from 1. The form says "“x” is not a track id." for anything else."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("error_messages", {"required": "Say which track this is about."})
        super().__init__(**kwargs)

    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError:
            raise forms.ValidationError("“%(value)s” is not a track id.", params={"value": shown(value)}) from None

    def validate(self, value):
        if value is not None and value < 1:
            raise forms.ValidationError("“%(value)s” is not a track id.", params={"value": shown(value)})
        super().validate(value)


class TrackIdsField(forms.Field):
    """Several track ids from a repeated parameter (`seed=3&seed=8`), each once, in the order given."""

    widget = forms.MultipleHiddenInput

    def __init__(self, *, max_count: int, **kwargs):
        self.max_count = max_count
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return []
        values = value if isinstance(value, (list, tuple)) else [value]
        single = TrackIdField()
        ids = []
        for item in values:
            track_id = single.clean(item)
            if track_id not in ids:
                ids.append(track_id)
        if len(ids) > self.max_count:
            raise forms.ValidationError(
                "Pick at most %(max)d songs; you picked %(count)d.", params={"max": self.max_count, "count": len(ids)}
            )
        return ids


def number_field(label: str, low: float, high: float, **kwargs) -> forms.FloatField:
    """A knob: a finite number in [low, high]. NaN, ∞, text and anything outside get one sentence."""
    message = f"{label} must be a number between {low:g} and {high:g}."
    return AsciiFloatField(
        label=label,
        min_value=low,
        max_value=high,
        error_messages={key: message for key in ("invalid", "min_value", "max_value", "required")},
        **kwargs,
    )


def text_field(
    label: str,
    max_length: int,
    *,
    required: bool = True,
    required_message: str = "",
    multiline: bool = False,
    **kwargs,
) -> forms.CharField:
    """Text a listener types: stripped, at most `max_length` characters, no control characters (line breaks
    only where `multiline`), with the limit said in words."""
    messages = {"max_length": f"Keep the {label.lower()} under {max_length} characters."}
    if required_message:
        messages["required"] = required_message
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        error_messages=messages,
        validators=[refuse_control_characters(multiline)],
        **kwargs,
    )
