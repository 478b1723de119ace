from django import forms

from discovery.lib.forms import AsciiIntegerField, TrackIdField, TrackIdsField, text_field
from taste.stations.forms import MAX_SEEDS

MAX_QUERY_LENGTH = 200
MAX_PAGE = 10_000


def page_field() -> AsciiIntegerField:
    return AsciiIntegerField(
        min_value=1,
        max_value=MAX_PAGE,
        required=False,
        error_messages={
            "invalid": "A page is a whole number from 1.",
            "min_value": "A page is a whole number from 1.",
            "max_value": f"There are never more than {MAX_PAGE} pages.",
        },
    )


class SearchForm(forms.Form):
    """A search, the seeds already chosen, and (without JavaScript) the seed added or dropped by this request.

    The chosen seeds travel with every search so that a search never loses them: as hidden inputs of the search
    form without JavaScript, included from the chips by HTMX with it.
    """

    q = text_field("Search", MAX_QUERY_LENGTH, required=False)
    page = page_field()
    seed = TrackIdsField(max_count=MAX_SEEDS, required=False)
    add = TrackIdField(required=False)
    drop = TrackIdField(required=False)

    def clean(self):
        cleaned_data = super().clean()
        seeds = [pk for pk in cleaned_data.get("seed") or [] if pk != cleaned_data.get("drop")]
        added = cleaned_data.get("add")
        if added is not None and added not in seeds:
            if len(seeds) >= MAX_SEEDS:
                raise forms.ValidationError(
                    f"A station starts from at most {MAX_SEEDS} songs; remove one before adding another."
                )
            seeds.append(added)
        cleaned_data["seeds"] = seeds
        cleaned_data["page"] = cleaned_data.get("page") or 1
        return cleaned_data


class SeedChipForm(forms.Form):
    """The seeds already chosen, sent along when one more is added (so it is never added twice)."""

    seed = TrackIdsField(max_count=MAX_SEEDS, required=False)


class BrowseForm(forms.Form):
    """A page of the artist or album index, optionally narrowed by words."""

    q = text_field("Search", MAX_QUERY_LENGTH, required=False)
    page = page_field()

    def clean(self):
        cleaned_data = super().clean()
        cleaned_data["page"] = cleaned_data.get("page") or 1
        return cleaned_data
