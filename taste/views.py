from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe


@login_required
@require_safe
def station_list(request):
    stations = request.user.stations.prefetch_related("seed_links__track")
    return render(request, "taste/station_list.html", {"stations": stations})
