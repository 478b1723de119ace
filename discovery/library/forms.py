import re

from django import forms
from django.conf import settings

from discovery.lib.forms import AsciiIntegerField, ListenerError, shown, text_field
from discovery.library.folders import music_folder
from discovery.library.itunes_search import SEARCH_LIMIT
from tracks.forms import MultipleAudioFileField

_COUNTRY = re.compile(r"[A-Z]{2}", re.ASCII)
MEGABYTE = 1024 * 1024


def _file_name(name: str) -> str:
    return name if len(name) <= 120 else name[:119] + "…"


class FolderScanForm(forms.Form):
    folder = text_field(
        "Folder", 1000, required_message="Say which folder to scan, e.g. one of the music folders listed here."
    )

    def clean_folder(self):
        try:
            return music_folder(self.cleaned_data["folder"])
        except ListenerError as error:
            raise forms.ValidationError(str(error)) from None


class ITunesSearchForm(forms.Form):
    term = text_field("Search iTunes", 200, required_message="Type what to search for: an artist, a song, a style.")
    country = forms.CharField(
        label="Store", max_length=2, required=False, initial="US",
        error_messages={"max_length": "The store is a two-letter country code such as US or GB."},
    )

    def clean_country(self):
        country = (self.cleaned_data["country"] or "US").upper()
        if not _COUNTRY.fullmatch(country):
            raise forms.ValidationError("The store is a two-letter country code such as US or GB.")
        return country


class ITunesIdsField(forms.Field):
    """The iTunes trackIds of the chosen songs, from a repeated `track` parameter; each once, in order."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        values = value if isinstance(value, (list, tuple)) else ([value] if value else [])
        single = AsciiIntegerField(min_value=1)
        ids = []
        for item in values:
            try:
                track_id = single.clean(item)
            except forms.ValidationError:
                raise forms.ValidationError(
                    "“%(value)s” is not an iTunes song id.", params={"value": shown(item)}
                ) from None
            if track_id not in ids:
                ids.append(track_id)
        if not ids:
            raise forms.ValidationError("Choose at least one song to import.")
        if len(ids) > SEARCH_LIMIT:
            raise forms.ValidationError("Choose at most %(max)d songs at once.", params={"max": SEARCH_LIMIT})
        return ids


class ITunesImportForm(ITunesSearchForm):
    track = ITunesIdsField(required=False)


class UploadForm(forms.Form):
    files = MultipleAudioFileField(
        label="Audio files", error_messages={"required": "Choose or drop at least one audio file to upload."}
    )

    def clean_files(self):
        # DATA_UPLOAD_MAX_MEMORY_SIZE leaves files out, so the limit is checked here, file by file; a refused
        # upload stores nothing, and Django deletes its temporary files when the request ends.
        limit = settings.MAX_UPLOAD_MB * MEGABYTE
        for uploaded in self.cleaned_data["files"]:
            if uploaded.size > limit:
                raise forms.ValidationError(
                    "“%(name)s” is %(size).1f MB, over the limit of %(limit)s MB a file (MAX_UPLOAD_MB); nothing "
                    "was uploaded. Leave it out and try again.",
                    params={
                        "name": _file_name(uploaded.name),
                        "size": uploaded.size / MEGABYTE,
                        "limit": settings.MAX_UPLOAD_MB,
                    },
                )
        return self.cleaned_data["files"]
