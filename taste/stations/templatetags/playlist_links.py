"""How long the audio links in an exported playlist last, for the station page's export line."""

from django import template

from tracks.audio_links import lifetime_in_words

register = template.Library()


@register.simple_tag
def playlist_link_lifetime() -> str:
    return lifetime_in_words()
