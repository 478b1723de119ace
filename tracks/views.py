from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required, login_required
from django.http import Http404, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_safe

from tracks.audio_links import AudioLinkRefused, user_id_for_link
from tracks.models import Track
from tracks.roots import AudioOutsideRoots, audio_path_to_serve
from tracks.streaming import ranged_file_response


def _playable_track(user, pk) -> Track:
    tracks = Track.objects.all() if user.is_staff else Track.objects.visible()
    return get_object_or_404(tracks, pk=pk)


def _audio_response(request, track: Track):
    """The track's local file, seekable, or a redirect to its remote preview; 404 when it has neither.

    Only files inside MEDIA_ROOT or a library root are ever sent (tracks/roots.py); anything else is a 404,
    for staff too, with a warning in the log.
    """
    try:
        path = audio_path_to_serve(track)
    except AudioOutsideRoots:
        raise Http404("This track has no audio on this server.") from None
    if path is not None and path.is_file():
        return ranged_file_response(request, path)
    if track.preview_url:
        return redirect(track.preview_url)
    raise Http404("This track has no audio on this server.")


@login_required
@require_safe
def track_audio(request, pk):
    """A track's audio, seekable; hidden tracks are for staff only."""
    return _audio_response(request, _playable_track(request.user, pk))


def _forbidden(message: str) -> HttpResponseForbidden:
    # Read by other players and by people pasting a link: plain text, no page around it.
    return HttpResponseForbidden(message, content_type="text/plain; charset=utf-8")


@login_not_required  # the signature stands in for the session
@require_safe
def track_stream(request, pk, token):
    """A track's audio through a signed playlist link (tracks/audio_links.py): no session, same rules.

    The account the link was issued to must still be active and still allowed to play the track, so closing
    an account or hiding a track takes effect on links already handed out.
    """
    try:
        user_id = user_id_for_link(pk, token)
    except AudioLinkRefused as refused:
        return _forbidden(str(refused))
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return _forbidden("The account this link was made for is closed, so its links no longer play.")
    return _audio_response(request, _playable_track(user, pk))
