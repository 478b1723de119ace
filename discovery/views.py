"""The site's own pages, which bring the apps together: home, search, a track's page, errors (sign-up and
the other account pages live in discovery/accounts)."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from discovery.browse.services import credit_tracks, with_credits
from discovery.forms import SearchForm, SeedChipForm
from discovery.lib.forms import cleaned
from discovery.lib.http import answers_listener_errors
from discovery.services import chosen_seeds, corpus_summary, is_new_chip, search_page
from embedding.base import DEFAULT_TRAINED_MODEL
from embedding.models import EmbeddingModel
from embedding.progress import embedding_progress
from embedding.training_jobs import latest_training_run
from taste.stations.services import seedable_ids, seedable_tracks
from tracks.models import Track


@login_required
def home(request):
    context = {"corpus": corpus_summary(), "stations": request.user.stations.all()[:10]}
    if request.user.is_staff:
        context["progress"] = embedding_progress()
        context["training_run"], context["trained_model"] = latest_training_run(), DEFAULT_TRAINED_MODEL
    return render(request, "discovery/home.html", context)


@login_required
@require_safe
@answers_listener_errors
def search(request):
    data = cleaned(SearchForm(request.GET))
    query, seeds = data["q"], data["seeds"]
    page = search_page(query, data["page"])
    tracks = page.object_list if page else []
    context = {
        "query": query,
        "page": page,
        "tracks": tracks,
        "seedable_ids": seedable_ids(t.pk for t in tracks),
        "chosen_ids": set(seeds),
        "seeds": chosen_seeds(seeds),
    }
    if page and page.has_next():
        # HTMX adds the chips' seeds itself; the plain link carries them for a page without JavaScript.
        context["more_query"] = urlencode({"q": query, "page": page.next_page_number()})
        context["more_link_query"] = urlencode({"q": query, "page": page.next_page_number(), "seed": seeds}, doseq=True)
    if request.htmx:
        more = data["page"] > 1  # "More results" replaces itself with the next rows
        template = "discovery/partials/search_rows.html" if more else "discovery/partials/search_results.html"
    else:
        template = "discovery/search.html"
    return render(request, template, context)


@login_required
@require_safe
@answers_listener_errors
def seed_chip(request, pk):
    track = get_object_or_404(seedable_tracks(), pk=pk)
    chosen = cleaned(SeedChipForm(request.GET))["seed"]
    if not is_new_chip(track.pk, chosen):
        return HttpResponse(status=204)  # already a chip: nothing to add
    return render(request, "discovery/partials/seed_chip.html", {"track": track})


@login_required
@require_safe
def track_detail(request, pk):
    tracks = Track.objects.all() if request.user.is_staff else Track.objects.visible()
    (track,) = credit_tracks([get_object_or_404(with_credits(tracks.select_related("duplicate_of")), pk=pk)])
    model = EmbeddingModel.default()
    embedding = track.embeddings.filter(model=model).first() if model else None
    context = {
        "track": track,
        "top_tags": embedding.top_tags(5) if embedding else [],
        "seedable": track.pk in seedable_ids([track.pk]),
    }
    return render(request, "discovery/track_detail.html", context)
