from django import forms

from discovery.compare.models import Trial
from discovery.lib.forms import AsciiIntegerField, TrackIdsField

MAX_SEEDS = 10


class CompareForm(forms.Form):
    """Seeds by id (`seed=3&seed=8`), or one of the listener's stations, whose seeds are taken."""

    seed = TrackIdsField(max_count=MAX_SEEDS, required=False)
    station = AsciiIntegerField(required=False, min_value=1)


class VerdictForm(forms.Form):
    verdict = forms.ChoiceField(
        choices=Trial.Verdict.choices, error_messages={"required": "Say which list fits the seeds better, or same."}
    )
