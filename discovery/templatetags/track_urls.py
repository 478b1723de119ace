"""`{% track_url "name" pk %}`: `{% url "name" pk %}` for a URL whose one argument is a track id, reversed once.

A station's list names four URLs per result and is drawn again on every thumb; Django's reverse() was a third
of that rendering. The URL is reversed once (per name, script prefix and urlconf) with a stand-in id, and each
call puts the id in its place.
"""

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()

# An id no URL around it can contain by accident: the digits are only ever the argument.
_STAND_IN = 7_340_218_905_163
_split: dict[tuple, tuple[str, str]] = {}


@register.simple_tag
def track_url(name: str, pk) -> str:
    key = (name, get_script_prefix(), get_urlconf())
    parts = _split.get(key)
    if parts is None:
        before, after = reverse(name, args=[_STAND_IN]).split(str(_STAND_IN))
        parts = _split[key] = (before, after)
    return f"{parts[0]}{int(pk)}{parts[1]}"
