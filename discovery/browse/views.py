"""Artist and album pages and their indexes: list, play, start a station from them."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from discovery.browse.services import album_index, album_page, artist_index, artist_page, key_of_ref, station_from
from discovery.forms import BrowseForm
from discovery.lib.forms import cleaned
from discovery.lib.http import answers_listener_errors

_PAGES = {"artist": artist_page, "album": album_page}
_INDEXES = {"artist": artist_index, "album": album_index}


def _get_collection(kind: str, ref: str):
    """The artist or album this URL names, or 404 (also when all its tracks are hidden)."""
    key = key_of_ref(ref)
    collection = _PAGES[kind](key) if key else None
    if collection is None:
        raise Http404(f"No such {kind}.")
    return collection


def _index(request, kind: str):
    data = cleaned(BrowseForm(request.GET))
    page = _INDEXES[kind](data["q"], data["page"])
    context = {"kind": kind, "page": page, "query": data["q"]}
    template = "discovery/partials/browse_index.html" if request.htmx else "discovery/browse_index.html"
    return render(request, template, context)


def _detail(request, kind: str, ref: str):
    collection = _get_collection(kind, ref)
    if ref != collection.credit.ref:  # an old slug, or a bare key: the one address people share
        return redirect(collection.credit.url, permanent=True)
    return render(request, f"discovery/{kind}_detail.html", {"collection": collection, "kind": kind})


def _station(request, kind: str, ref: str):
    station = station_from(request.user, _get_collection(kind, ref))
    return redirect("station_detail", pk=station.pk)


@login_required
@require_safe
@answers_listener_errors
def artist_list(request):
    return _index(request, "artist")


@login_required
@require_safe
@answers_listener_errors
def album_list(request):
    return _index(request, "album")


@login_required
@require_safe
def artist_detail(request, ref):
    return _detail(request, "artist", ref)


@login_required
@require_safe
def album_detail(request, ref):
    return _detail(request, "album", ref)


@login_required
@require_POST
@answers_listener_errors
def artist_station(request, ref):
    return _station(request, "artist", ref)


@login_required
@require_POST
@answers_listener_errors
def album_station(request, ref):
    return _station(request, "album", ref)
