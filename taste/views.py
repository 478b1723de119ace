from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from discovery.search import recommendations
from taste.models import Station, Thumb
from taste.playlists import m3u, xspf
from taste.responses import bad_request
from taste.services import (
    StationError,
    add_seed,
    create_station,
    parse_knob,
    parse_one_track_id,
    parse_slider_knobs,
    parse_track_ids,
    remove_seed,
    set_knobs,
    set_thumb,
)
from taste.slider_services import visible_sliders


def _get_station_for_user(request, pk) -> Station:
    """The station if it belongs to the signed-in user; anyone else gets a 404, never a hint it exists."""
    return get_object_or_404(Station, pk=pk, owner=request.user)


def _live_context(request, station: Station) -> dict:
    thumbs = station.thumbs.select_related("track").order_by("-updated")
    return {
        "station": station,
        "recommendations": recommendations(station),
        "seeds": station.ordered_seeds(),
        "liked": [t.track for t in thumbs if t.value == Thumb.UP],
        "disliked": [t.track for t in thumbs if t.value == Thumb.DOWN],
    }


def _live_partial(request, station: Station) -> HttpResponse:
    return render(request, "taste/partials/station_live.html", _live_context(request, station))


def _after_change(request, station: Station) -> HttpResponse:
    """HTMX gets the re-ranked fragment in place; a plain form goes back to the station page."""
    if request.htmx:
        return _live_partial(request, station)
    return redirect("station_detail", pk=station.pk)


@login_required
@require_http_methods(["GET", "POST"])
def stations(request):
    if request.method == "POST":
        try:
            station = create_station(
                request.user, parse_track_ids(request.POST.getlist("seed")), request.POST.get("name", "")
            )
        except StationError as error:
            return bad_request(request, str(error))
        return redirect("station_detail", pk=station.pk)
    stations = request.user.stations.prefetch_related("seed_links__track")
    return render(request, "taste/station_list.html", {"stations": stations})


@login_required
@require_safe
def station_detail(request, pk):
    station = _get_station_for_user(request, pk)
    lit = visible_sliders(request.user).filter(lit=True).order_by("name")
    knobs = [(slider, station.slider_weights.get(str(slider.pk), 0.0)) for slider in lit]
    return render(request, "taste/station.html", {**_live_context(request, station), "slider_knobs": knobs})


@login_required
@require_POST
def station_thumbs(request, pk):
    station = _get_station_for_user(request, pk)
    try:
        set_thumb(station, parse_one_track_id(request.POST.getlist("track")), request.POST.get("value", ""))
    except StationError as error:
        return bad_request(request, str(error))
    return _after_change(request, station)


@login_required
@require_POST
def station_seeds(request, pk):
    station = _get_station_for_user(request, pk)
    try:
        track_id = parse_one_track_id(request.POST.getlist("track"))
        if request.POST.get("action") == "remove":
            remove_seed(station, track_id)
        else:
            add_seed(station, track_id)
    except StationError as error:
        return bad_request(request, str(error))
    return _after_change(request, station)


@login_required
@require_safe
def station_results(request, pk):
    station = _get_station_for_user(request, pk)
    try:
        breadth = parse_knob(request.GET.get("breadth"), "Breadth")
        explore = parse_knob(request.GET.get("explore"), "Explore")
        usable = set(visible_sliders(request.user).filter(lit=True).values_list("pk", flat=True))
        slider_knobs = parse_slider_knobs(request.GET, usable)
    except StationError as error:
        return bad_request(request, str(error))
    set_knobs(station, breadth, explore, slider_knobs)
    return _live_partial(request, station)


@login_required
@require_safe
def station_results_json(request, pk):
    station = _get_station_for_user(request, pk)
    results = [
        {
            "track_id": rec.track.pk,
            "title": rec.track.title,
            "artist": rec.track.artist,
            "score": round(float(rec.ranked.score), 6),
            "similarity": round(float(rec.ranked.similarity), 6),
            "why": rec.ranked.why,
            "why_anchor_id": rec.ranked.why_anchor_id,
        }
        for rec in recommendations(station)
    ]
    return JsonResponse(
        {"station": station.pk, "name": station.name, "breadth": station.breadth, "explore": station.explore,
         "results": results}
    )


@login_required
@require_safe
def station_playlist(request, pk, fmt):
    station = _get_station_for_user(request, pk)
    tracks = [rec.track for rec in recommendations(station)]

    def audio_url(track):
        return track.preview_url or request.build_absolute_uri(reverse("track_audio", args=[track.pk]))

    if fmt == "m3u":
        body, content_type = m3u(tracks, audio_url), "audio/x-mpegurl; charset=utf-8"
    else:
        body, content_type = xspf(station.name, tracks, audio_url), "application/xspf+xml; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="wavelength-station-{station.pk}.{fmt}"'
    return response


@login_required
@require_safe
def liked_tracks(request):
    thumbs = (
        Thumb.objects.filter(user=request.user, value=Thumb.UP, station__owner=request.user)
        .select_related("track", "station")
        .order_by("-updated")
    )
    return render(request, "taste/liked.html", {"thumbs": thumbs})
