from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_safe

from tracks.models import Track
from tracks.roots import AudioOutsideRoots, audio_path_to_serve
from tracks.streaming import ranged_file_response


@login_required
@require_safe
def track_audio(request, pk):
    """A track's audio, seekable; hidden tracks are for staff only.

    Only files inside MEDIA_ROOT or a library root are ever sent (tracks/roots.py); anything else is a 404,
    for staff too, with a warning in the log.
    """
    tracks = Track.objects.all() if request.user.is_staff else Track.objects.visible()
    track = get_object_or_404(tracks, pk=pk)
    try:
        path = audio_path_to_serve(track)
    except AudioOutsideRoots:
        raise Http404("This track has no audio on this server.") from None
    if path is not None and path.is_file():
        return ranged_file_response(request, path)
    if track.preview_url:
        return redirect(track.preview_url)
    raise Http404("This track has no audio on this server.")
