from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required, login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from discovery.forms import SignupForm
from discovery.search import search_tracks
from discovery.services import corpus_summary
from embedding.progress import embedding_progress
from taste.services import seedable_ids, seedable_tracks


@login_required
def home(request):
    context = {"corpus": corpus_summary(), "stations": request.user.stations.all()[:10]}
    if request.user.is_staff:
        context["progress"] = embedding_progress()
    return render(request, "discovery/home.html", context)


@login_not_required
@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            user = form.save()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("home")
        return render(request, "registration/signup.html", {"form": form}, status=400)
    return render(request, "registration/signup.html", {"form": form})


@login_required
@require_safe
def search(request):
    query = request.GET.get("q", "").strip()[:200]
    tracks = search_tracks(query) if query else []
    context = {"query": query, "tracks": tracks, "seedable_ids": seedable_ids(t.pk for t in tracks)}
    template = "discovery/partials/search_results.html" if request.htmx else "discovery/search.html"
    return render(request, template, context)


@login_required
@require_safe
def seed_chip(request, pk):
    track = get_object_or_404(seedable_tracks(), pk=pk)
    return render(request, "discovery/partials/seed_chip.html", {"track": track})
