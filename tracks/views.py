from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_safe

from embedding.models import EmbeddingModel
from taste.services import seedable_ids
from tracks.models import Track
from tracks.streaming import ranged_file_response


def _get_playable_track(request, pk) -> Track:
    """A track the user may listen to: hidden tracks are for staff only."""
    tracks = Track.objects.all() if request.user.is_staff else Track.objects.filter(hidden=False)
    return get_object_or_404(tracks, pk=pk)


@login_required
@require_safe
def track_audio(request, pk):
    track = _get_playable_track(request, pk)
    path = track.local_audio_path
    if path is not None and path.is_file():
        return ranged_file_response(request, path)
    if track.preview_url:
        return redirect(track.preview_url)
    raise Http404("This track has no audio on this server.")


@login_required
@require_safe
def track_detail(request, pk):
    track = _get_playable_track(request, pk)
    model = EmbeddingModel.default()
    embedding = track.embeddings.filter(model=model).first() if model else None
    context = {
        "track": track,
        "top_tags": embedding.top_tags(5) if embedding else [],
        "seedable": track.pk in seedable_ids([track.pk]),
    }
    return render(request, "tracks/track_detail.html", context)
