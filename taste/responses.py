from django.http import HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string


def bad_request(request, message: str) -> HttpResponse:
    """A 400 whose body is the sentence saying what to correct, as a fragment HTMX shows in the error box."""
    return HttpResponseBadRequest(render_to_string("taste/partials/error.html", {"message": message}, request=request))
