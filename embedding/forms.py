from django import forms

from discovery.lib.forms import AsciiFloatField, AsciiIntegerField


class TrainingForm(forms.Form):
    """Staff's "train our own model": how long it may take; the name and the rest are the command's defaults."""

    epochs = AsciiIntegerField(
        required=False, min_value=1, max_value=10_000, error_messages={"min_value": "Train for at least one epoch."}
    )
    max_minutes = AsciiFloatField(
        required=False,
        min_value=0.1,
        max_value=600,
        error_messages={"min_value": "Give training at least 0.1 minutes.", "max_value": "At most 600 minutes."},
    )
