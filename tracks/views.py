from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_safe

from tracks.models import Track
from tracks.streaming import ranged_file_response


@login_required
@require_safe
def track_audio(request, pk):
    """A track's audio, seekable; hidden tracks are for staff only."""
    tracks = Track.objects.all() if request.user.is_staff else Track.objects.visible()
    track = get_object_or_404(tracks, pk=pk)
    path = track.local_audio_path
    if path is not None and path.is_file():
        return ranged_file_response(request, path)
    if track.preview_url:
        return redirect(track.preview_url)
    raise Http404("This track has no audio on this server.")
