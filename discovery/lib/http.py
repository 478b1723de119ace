"""Answers to requests a listener can correct, in the form the request came in."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from discovery.lib.forms import ListenerError


def bad_request(request, message: str) -> HttpResponse:
    """A 400 with the sentence saying what to correct.

    HTMX shows it in the page's error box (static/js/site.js), so it gets the fragment alone; a plain form post
    or link gets a whole page, with the site's layout, the message and a way back.
    """
    context = {"message": message}
    if request.htmx:
        return render(request, "partials/error.html", context, status=400)
    referer = request.headers.get("Referer", "")
    same_site = url_has_allowed_host_and_scheme(referer, {request.get_host()}, request.is_secure())
    context["back"] = referer if referer and same_site else ""
    return render(request, "bad_request.html", context, status=400)


def answers_listener_errors(view):
    """Turn a ListenerError raised while handling the request into `bad_request`, so views stay thin."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except ListenerError as error:
            return bad_request(request, str(error))

    return wrapper


def staff_only(view):
    """Staff pages are a 404 for everyone else, never a hint that they exist; a visitor is sent to log in."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper
