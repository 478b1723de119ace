from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from discovery.lib.forms import cleaned
from discovery.lib.http import answers_listener_errors
from taste.sliders.services import steering_sliders, usable_slider_ids
from taste.stations.forms import KnobsForm, SeedChangeForm, StationForm, ThumbForm
from taste.stations.listening import listening_context
from taste.stations.models import Station, Thumb
from taste.stations.owned import station_for_user
from taste.stations.playlists import m3u, signed_audio_url, xspf
from taste.stations.recommendations import recommendations, thumbs_of, upcoming
from taste.stations.services import Knobs, add_seed, create_station, remove_seed, save_knobs, set_thumb
from tracks.models import Track

# The list's own controls swap this element (templates/stations/partials/results.html); the player's requests
# target the whole #station-live.
RESULTS_TARGET = "station-results"
THUMB_RAILS = {"up": "liked", "down": "disliked"}


def _thumbed(thumbs) -> dict:
    return {
        "liked": [t.track for t in thumbs if t.value == Thumb.UP],
        "disliked": [t.track for t in thumbs if t.value == Thumb.DOWN],
    }


def _list_context(station: Station, knobs: Knobs | None = None) -> dict:
    """The re-ranked list and the thumbs' rails."""
    thumbs = thumbs_of(station)  # read once: for the ranking and for the rails
    return {"station": station, "recommendations": upcoming(station, knobs, thumbs=thumbs), **_thumbed(thumbs)}


def _live_context(station: Station, knobs: Knobs | None = None) -> dict:
    return {**_list_context(station, knobs), **listening_context(station), "seeds": station.ordered_seeds()}


def _live_partial(request, station: Station, knobs: Knobs | None = None, rails=frozenset()) -> HttpResponse:
    """The re-ranked fragment for HTMX. A control of the list (HX-Target: the list) gets the list alone, with
    only the rails in `rails` ("seeds", "liked", "disliked") out of band: a thumb redraws about half as much as
    the whole of #station-live, and reads neither the listening rail nor the seeds."""
    if request.htmx.target != RESULTS_TARGET:
        return render(request, "stations/partials/station_live.html", _live_context(station, knobs))
    context = {**_list_context(station, knobs), "rails": rails}
    if "seeds" in rails:
        context["seeds"] = station.ordered_seeds()
    return render(request, "stations/partials/results_answer.html", context)


def _after_change(request, station: Station, rails=frozenset()) -> HttpResponse:
    """HTMX gets the re-ranked fragment in place; a plain form goes back to the station page."""
    if request.htmx:
        return _live_partial(request, station, rails=rails)
    return redirect("station_detail", pk=station.pk)


def _requested_knobs(request, station: Station, params) -> Knobs:
    """The station's knobs with those in `params` turned (validated by KnobsForm; nothing is saved)."""
    form = KnobsForm(params, usable_slider_ids=usable_slider_ids(request.user))
    cleaned(form)
    knobs = form.knobs()
    return Knobs.of(station).changed(knobs["breadth"], knobs["explore"], knobs["sliders"])


@login_required
@require_http_methods(["GET", "POST"])
@answers_listener_errors
def stations(request):
    if request.method == "POST":
        data = cleaned(StationForm(request.POST))
        station = create_station(request.user, data["seed"], data["name"])
        return redirect("station_detail", pk=station.pk)
    stations = request.user.stations.prefetch_related("seed_links__track")
    return render(request, "stations/station_list.html", {"stations": stations})


@login_required
@require_safe
def station_detail(request, pk):
    station = station_for_user(request, pk)
    lit = steering_sliders(request.user).order_by("name")
    weights = Knobs.of(station).slider_weights
    knobs = [(slider, weights.get(slider.pk, 0.0)) for slider in lit]
    return render(request, "stations/station.html", {**_live_context(station), "slider_knobs": knobs})


@login_required
@require_POST
@answers_listener_errors
def station_thumbs(request, pk):
    station = station_for_user(request, pk)
    data = cleaned(ThumbForm(request.POST))
    previous = set_thumb(station, data["track"], data["value"])
    # The rail the track joined and the one it left, if any.
    rails = {THUMB_RAILS[v] for v in (previous, data["value"]) if v in THUMB_RAILS}
    return _after_change(request, station, rails)


@login_required
@require_POST
@answers_listener_errors
def station_seeds(request, pk):
    station = station_for_user(request, pk)
    data = cleaned(SeedChangeForm(request.POST))
    if data["action"] == "remove":
        remove_seed(station, data["track"])
    else:
        add_seed(station, data["track"])
    # A new seed loses its thumb (services.add_seed), so the thumbs' rails may change as well.
    return _after_change(request, station, {"seeds", "liked", "disliked"})


@login_required
@require_safe
@answers_listener_errors
def station_results(request, pk):
    """The list for the knobs in the query string, without saving them (a GET never writes)."""
    station = station_for_user(request, pk)
    return _live_partial(request, station, _requested_knobs(request, station, request.GET))


@login_required
@require_POST
@answers_listener_errors
def station_knobs(request, pk):
    station = station_for_user(request, pk)
    save_knobs(station, _requested_knobs(request, station, request.POST))
    return _after_change(request, station)


@login_required
@require_safe
def station_results_json(request, pk):
    station = station_for_user(request, pk)
    results = [
        {
            "track_id": rec.track.pk,
            "audio_url": signed_audio_url(rec.track, request.user.pk, request.build_absolute_uri),
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
    station = station_for_user(request, pk)
    tracks = [rec.track for rec in recommendations(station)]

    def audio_url(track):
        return signed_audio_url(track, request.user.pk, request.build_absolute_uri)

    if fmt == "m3u":
        body, content_type = m3u(tracks, audio_url), "audio/x-mpegurl; charset=utf-8"
    else:
        body, content_type = xspf(station.name, tracks, audio_url), "application/xspf+xml; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="wavelength-station-{station.pk}.{fmt}"'
    return response


@login_required
@require_safe
def station_queue(request, pk):
    """The radio as outside tools see it: what plays now and what comes next, in play order (with what a player
    needs to play each one)."""
    station = station_for_user(request, pk)
    recs = upcoming(station)
    tracks = {
        str(rec.track.pk): {
            "title": rec.track.title,
            "artist": rec.track.artist,
            "audio": reverse("track_audio", args=[rec.track.pk]),
            "art": rec.track.artwork_url,
            "why": rec.ranked.why,
        }
        for rec in recs
    }
    return JsonResponse({"now": station.now_playing_id, "next": [rec.track.pk for rec in recs], "tracks": tracks})


@login_required
@require_safe
def liked_tracks(request):
    thumbs = (
        Thumb.objects.filter(user=request.user, value=Thumb.UP, station__owner=request.user)
        .filter(track__in=Track.objects.visible())
        .select_related("track", "station")
        .order_by("-updated")
    )
    return render(request, "stations/liked.html", {"thumbs": thumbs})
