"""`{% icon "name" %}`: one of the site's inline SVG icons (templates/partials/icons.html holds the sprite).

The same markup as templates/partials/icon.html, as a tag: a station's list draws a hundred icons per re-rank,
and a tag costs a fraction of an include.
"""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def icon(name: str, size: int = 20) -> str:
    return format_html(
        '<svg class="icon" aria-hidden="true" focusable="false" width="{}" height="{}"><use href="#i-{}"></use></svg>',
        size,
        size,
        name,
    )
