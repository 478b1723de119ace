"""The one check every per-user station view makes."""

from django.shortcuts import get_object_or_404

from taste.stations.models import Station


def station_for_user(request, pk) -> Station:
    """The station if it belongs to the signed-in user; anyone else gets a 404, never a hint it exists."""
    return get_object_or_404(Station, pk=pk, owner=request.user)
