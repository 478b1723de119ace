from django import forms


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleAudioFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "audio/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data]
        if not files:
            files = [None]  # lets FileField say "This field is required."
        return [super(MultipleAudioFileField, self).clean(item, initial) for item in files]


class AudioUploadForm(forms.Form):
    files = MultipleAudioFileField(label="Audio files", help_text="Any format FFmpeg reads; several at once.")
    artist = forms.CharField(required=False, max_length=500, help_text="Only where the files' own tags lack it.")
    album = forms.CharField(required=False, max_length=500, help_text="Only where the files' own tags lack it.")
