"""/compare/: a listener judges two models' lists for the same seeds without knowing which is which."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST, require_safe

from discovery.compare.forms import CompareForm, VerdictForm
from discovery.compare.models import Trial
from discovery.compare.services import record_verdict, start_trial, tallies
from discovery.lib.forms import ListenerError, cleaned
from discovery.lib.http import answers_listener_errors
from taste.stations.owned import station_for_user
from tracks.models import Track


def _get_trial_for_user(request, pk) -> Trial:
    return get_object_or_404(Trial, pk=pk, listener=request.user)


@login_required
@require_safe
@answers_listener_errors
def compare(request):
    data = cleaned(CompareForm(request.GET))
    seed_ids = data["seed"]
    if data["station"]:
        station = station_for_user(request, data["station"])
        seed_ids = [track.pk for track in station.ordered_seeds()]
    context = {"stations": request.user.stations.all()[:50]}
    if seed_ids:
        seeds = Track.objects.canonical().in_bulk(seed_ids)
        if len(seeds) != len(seed_ids):
            raise ListenerError("One of the seeds is not in the catalogue any more; pick the seeds again.")
        trial, left, right = start_trial(request.user, seed_ids)
        context.update(trial=trial, seeds=[seeds[pk] for pk in seed_ids], left=left, right=right)
    return render(request, "compare/compare.html", context)


@login_required
@require_POST
@answers_listener_errors
def vote(request, pk):
    trial = _get_trial_for_user(request, pk)
    record_verdict(trial, cleaned(VerdictForm(request.POST))["verdict"])
    return render(request, "compare/partials/thanks.html", {"trial": trial})


@login_required
@require_safe
def tally(request):
    if not request.user.is_staff:
        raise Http404
    return render(request, "compare/tallies.html", {"pairs": tallies(), "listeners": tallies(by_listener=True)})
