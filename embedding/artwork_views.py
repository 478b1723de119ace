"""A track's artwork as an image: its stored thumbnail, or a tile drawn from its sound.

Here, in the embedding layer, because the tile needs the track's vector; the thumbnails are the catalogue's
(tracks/artwork.py).
"""

from __future__ import annotations

import hashlib

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db.models import Avg
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.cache import get_conditional_response, patch_cache_control
from django.views.decorators.http import require_safe
from pgvector.django import VectorField

from discovery.lib.forms import cleaned
from discovery.lib.http import answers_listener_errors
from embedding.models import EmbeddingModel, TrackEmbedding
from embedding.tiles import NEUTRAL, tile_parameters, tile_svg
from tracks.artwork import SIZES, read_thumbnail
from tracks.models import Track

# The address never changes while the picture may (fetch_artwork finds art, a track is embedded): browsers
# keep it an hour, then ask again with the ETag and mostly get a 304.
MAX_AGE_S = 3600
CENTRE_CACHE_S = 600


class ArtworkForm(forms.Form):
    size = forms.ChoiceField(
        choices=[(size, size) for size in SIZES],
        required=False,
        error_messages={"invalid_choice": "The artwork size must be “small” or “large”."},
    )


@login_required
@require_safe
@answers_listener_errors
def track_artwork(request, pk):
    """The track's artwork at `?size=small|large` (96 or 320 px); hidden tracks are for staff only."""
    tracks = Track.objects.all() if request.user.is_staff else Track.objects.visible()
    track = get_object_or_404(tracks, pk=pk)
    size = cleaned(ArtworkForm(request.GET))["size"] or "small"
    thumbnail = read_thumbnail(track, size)
    if thumbnail is None and track.artwork_url:
        # An iTunes preview whose artwork `manage.py fetch_artwork` has not stored yet: Apple's own.
        return redirect(track.artwork_url)
    if thumbnail is not None:
        body, content_type = thumbnail, "image/jpeg"
        etag = f'"{track.artwork_sha256[:32]}-{size}"'
    else:
        body, content_type = tile_svg(_tile_parameters(track), SIZES[size]).encode(), "image/svg+xml"
        etag = f'"tile-{hashlib.sha256(body).hexdigest()[:32]}"'
    response = get_conditional_response(request, etag=etag) or HttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    patch_cache_control(response, private=True, max_age=MAX_AGE_S)
    return response


def _tile_parameters(track: Track):
    model = EmbeddingModel.default()
    embedding = TrackEmbedding.objects.filter(track=track, model=model).only("vector").first() if model else None
    if embedding is None:
        return NEUTRAL
    return tile_parameters(embedding.vector, _catalogue_centre(model))


def _catalogue_centre(model: EmbeddingModel):
    """The mean of the model's vectors (one aggregate in PostgreSQL), kept a few minutes: it moves slowly."""

    def mean():
        return TrackEmbedding.objects.filter(model=model).aggregate(
            centre=Avg("vector", output_field=VectorField())
        )["centre"]

    return cache.get_or_set(f"tile-centre:{model.pk}:{model.dim}", mean, CENTRE_CACHE_S)
