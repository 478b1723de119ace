"""The site's own pages, which bring the apps together: home, search, a track's page, errors (sign-up and
the other account pages live in discovery/accounts)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from discovery.forms import SearchForm
from discovery.lib.forms import cleaned
from discovery.lib.http import answers_listener_errors
from discovery.services import corpus_summary
from embedding.models import EmbeddingModel
from embedding.progress import embedding_progress
from taste.stations.services import seedable_ids, seedable_tracks
from tracks.models import Track

SEARCH_LIMIT = 20


@login_required
def home(request):
    context = {"corpus": corpus_summary(), "stations": request.user.stations.all()[:10]}
    if request.user.is_staff:
        context["progress"] = embedding_progress()
    return render(request, "discovery/home.html", context)


@login_required
@require_safe
@answers_listener_errors
def search(request):
    query = cleaned(SearchForm(request.GET))["q"]
    tracks = list(Track.objects.canonical().matching(query)[:SEARCH_LIMIT]) if query else []
    context = {"query": query, "tracks": tracks, "seedable_ids": seedable_ids(t.pk for t in tracks)}
    template = "discovery/partials/search_results.html" if request.htmx else "discovery/search.html"
    return render(request, template, context)


@login_required
@require_safe
def seed_chip(request, pk):
    track = get_object_or_404(seedable_tracks(), pk=pk)
    return render(request, "discovery/partials/seed_chip.html", {"track": track})


@login_required
@require_safe
def track_detail(request, pk):
    tracks = Track.objects.all() if request.user.is_staff else Track.objects.visible()
    track = get_object_or_404(tracks.select_related("duplicate_of"), pk=pk)
    model = EmbeddingModel.default()
    embedding = track.embeddings.filter(model=model).first() if model else None
    context = {
        "track": track,
        "top_tags": embedding.top_tags(5) if embedding else [],
        "seedable": track.pk in seedable_ids([track.pk]),
    }
    return render(request, "discovery/track_detail.html", context)
