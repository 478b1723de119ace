from django import template

register = template.Library()


@register.filter
def percent(value: float) -> str:
    return f"{100 * value:.0f} %"
