"""The player's hooks (a play ended, a station started a track, undo a play's signal) and the history page."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from discovery.lib.forms import cleaned
from discovery.lib.http import answers_listener_errors
from taste.stations.forms import HistoryPageForm, NowPlayingForm, PlayForm
from taste.stations.listening import listening_context, plays_of, record_play, set_now_playing, undo_play_signal
from taste.stations.models import Play, Station
from taste.stations.owned import station_for_user

HISTORY_PAGE_SIZE = 50


def _station_for_user_or_none(request, pk) -> Station | None:
    """The signed-in user's station `pk` (404 for anyone else's), or None when no station was named."""
    return None if pk is None else station_for_user(request, pk)


def _rail(request, station: Station) -> HttpResponse:
    context = {"station": station, **listening_context(station)}
    return render(request, "stations/partials/listening_rail.html", context)


@login_required
@require_POST
@answers_listener_errors
def plays(request):
    """A track ended: 204, or the station's refreshed listening rail for HTMX."""
    data = cleaned(PlayForm(request.POST))
    station = _station_for_user_or_none(request, data["station"])
    record_play(request.user, data["track"], station, data["seconds"], data["ended"])
    if request.htmx and station is not None:
        return _rail(request, station)
    return HttpResponse(status=204)


@login_required
@require_POST
@answers_listener_errors
def now_playing(request):
    data = cleaned(NowPlayingForm(request.POST))
    station = _station_for_user_or_none(request, data["station"])
    if station is not None:
        set_now_playing(station, data["track"])
    return HttpResponse(status=204)


@login_required
@require_POST
def undo_play(request, pk):
    play = get_object_or_404(Play.objects.select_related("station"), pk=pk, user=request.user)
    undo_play_signal(play)
    if play.station is None:
        return redirect("play_history")
    if request.htmx:
        return _rail(request, play.station)
    return redirect("station_detail", pk=play.station.pk)


@login_required
@require_safe
@answers_listener_errors
def history(request):
    page_number = cleaned(HistoryPageForm(request.GET))["page"] or 1
    page = Paginator(plays_of(request.user), HISTORY_PAGE_SIZE).get_page(page_number)
    return render(request, "stations/history.html", {"page": page, "plays": page.object_list})
