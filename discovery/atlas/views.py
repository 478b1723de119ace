"""The map (/map/) and the sonic path (/path/): thin views over discovery/atlas/services.py and paths.py."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from discovery.atlas.forms import LocateForm, MapPageForm, ModelChoiceForm, PathForm, SelectionForm
from discovery.atlas.paths import sonic_path
from discovery.atlas.services import (
    current_layout,
    lit_sliders,
    locate,
    map_payload,
    map_summary,
    queue_recommender_training,
    slider_values,
    station_from_selection,
    station_overlay,
    track_card,
)
from discovery.lib.forms import cleaned
from discovery.lib.http import answers_listener_errors, staff_only
from taste.sliders.services import steering_sliders
from taste.stations.constellations import constellation
from taste.stations.models import Station
from taste.stations.owned import station_for_user
from taste.stations.playlists import m3u, signed_audio_url
from tracks.models import Track


def _layout_or_404(request):
    layout = current_layout(cleaned(ModelChoiceForm(request.GET))["model"])
    if layout is None:
        raise Http404("There is no map of that model yet.")
    return layout


@login_required
@require_safe
@answers_listener_errors
def map_page(request):
    data = cleaned(MapPageForm(request.GET))
    station = station_for_user(request, data["station"]) if data["station"] else None
    layout = current_layout(data["model"])
    stations = Station.objects.filter(owner=request.user).order_by("-pk")[:30]
    context = {
        "layout": layout,
        "station": station,
        "stations": stations,
        "sliders": lit_sliders(request.user, layout),
        "recommender": constellation(layout.model.name) if layout else None,
        "model_name": data["model"],
    }
    return render(request, "atlas/map.html", context)


@staff_only
@require_POST
@answers_listener_errors
def map_recommender(request):
    """Staff: train the two-tower recommender for the map's model again, in the worker."""
    layout = _layout_or_404(request)
    queue_recommender_training(layout.model.name)
    messages.success(request, f"The worker is training the two-tower recommender for {layout.model.name}; "
                     "stations use it only if it beats the centroid on held-out sets.")
    return redirect("map")


@login_required
@require_safe
@answers_listener_errors
def map_points(request):
    payload = map_payload(_layout_or_404(request))
    response = HttpResponse(payload.data, content_type="application/octet-stream")
    response["Cache-Control"] = "private, no-cache"
    return response


@login_required
@require_safe
@answers_listener_errors
def map_meta(request):
    return JsonResponse(map_payload(_layout_or_404(request)).meta)


@login_required
@require_safe
@answers_listener_errors
def map_summary_json(request):
    return JsonResponse(map_summary(current_layout(cleaned(ModelChoiceForm(request.GET))["model"])))


@login_required
@require_safe
@answers_listener_errors
def map_track(request, pk):
    track = get_object_or_404(Track.objects.canonical(), pk=pk)
    layout = current_layout(cleaned(ModelChoiceForm(request.GET))["model"])
    return JsonResponse(track_card(track, layout.model if layout else None))


@login_required
@require_safe
@answers_listener_errors
def map_locate(request):
    data = cleaned(LocateForm(request.GET))
    return JsonResponse({"tracks": locate(_layout_or_404(request), data["q"])})


@login_required
@require_safe
@answers_listener_errors
def map_slider(request, pk):
    layout = _layout_or_404(request)
    slider = get_object_or_404(steering_sliders(request.user), pk=pk)
    return HttpResponse(slider_values(layout, slider), content_type="application/octet-stream")


@login_required
@require_safe
def map_station(request, pk):
    return JsonResponse(station_overlay(station_for_user(request, pk)))


@login_required
@require_POST
@answers_listener_errors
def map_selection_station(request):
    station = station_from_selection(request.user, cleaned(SelectionForm(request.POST))["tracks"])
    return redirect("station_detail", pk=station.pk)


def _path(request):
    data = cleaned(PathForm(request.GET))
    return data, sonic_path(data["from_"], data["to"], data["steps"], data["per_artist"], data["avoid"])


@login_required
@require_safe
@answers_listener_errors
def path_page(request):
    if "from" not in request.GET and "to" not in request.GET:
        return render(request, "atlas/path.html", {"tracks": None})
    data, tracks = _path(request)
    query = request.GET.urlencode()
    context = {"tracks": tracks, "data": data, "query": query, "seeds": _spread(tracks, 10)}
    return render(request, "atlas/path.html", context)


@login_required
@require_safe
@answers_listener_errors
def path_json(request):
    _, tracks = _path(request)
    return JsonResponse({"tracks": [track.pk for track in tracks]})


@login_required
@require_safe
@answers_listener_errors
def path_m3u(request):
    _, tracks = _path(request)
    text = m3u(tracks, lambda track: signed_audio_url(track, request.user.pk, request.build_absolute_uri))
    response = HttpResponse(text, content_type="audio/x-mpegurl; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="wavelength-path.m3u"'
    return response


def _spread(tracks, count: int):
    """`count` tracks evenly along the path, ends included: a station seeded by the whole route."""
    if len(tracks) <= count:
        return tracks
    step = (len(tracks) - 1) / (count - 1)
    return [tracks[round(i * step)] for i in range(count)]
