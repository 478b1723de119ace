from django import forms

from discovery.lib.forms import text_field

MAX_QUERY_LENGTH = 200


class SearchForm(forms.Form):
    q = text_field("Search", MAX_QUERY_LENGTH, required=False)
