from django import forms
from django.contrib.auth.forms import UserCreationForm

from discovery.lib.forms import text_field

MAX_QUERY_LENGTH = 200


class SignupForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        fields = ("username",)


class SearchForm(forms.Form):
    q = text_field("Search", MAX_QUERY_LENGTH, required=False)
