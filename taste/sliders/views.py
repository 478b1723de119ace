from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect

from discovery.lib.forms import cleaned, first_error
from discovery.lib.http import answers_listener_errors, bad_request
from taste.sliders.forms import RankingForm, RatingForm, SliderForm
from taste.sliders.models import Slider, SliderRating
from taste.sliders.services import SliderDark, create_slider, ranking, rate, rate_more, visible_sliders
from tracks.models import Track

SHOWN_RANKING = 20


def _get_slider_for_user(request, pk) -> Slider:
    """A slider the user may see: their own, or a public one. Anyone else's private slider is a 404."""
    return get_object_or_404(visible_sliders(request.user), pk=pk)


def _status_context(slider: Slider, user) -> dict:
    return {
        "slider": slider,
        "fit": slider.fit or {},
        "my_ratings": SliderRating.objects.filter(slider=slider, user=user).count(),
    }


def _ranked_tracks(slider: Slider, limit: int, highest: bool) -> list[tuple[Track, float]]:
    pairs = ranking(slider, limit=limit, highest=highest)
    tracks = Track.objects.in_bulk([pk for pk, _ in pairs])
    return [(tracks[pk], value) for pk, value in pairs]


def _slider_list(request, error: str = "", status: int = 200):
    context = {
        "own": Slider.objects.filter(owner=request.user),
        "public": Slider.objects.filter(public=True).exclude(owner=request.user).select_related("owner"),
        "error": error,
    }
    return render(request, "sliders/slider_list.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@answers_listener_errors
def sliders(request):
    if request.method == "GET":
        return _slider_list(request)
    form = SliderForm(request.POST, owner=request.user)
    if not form.is_valid():
        if request.htmx:
            return bad_request(request, first_error(form))
        return _slider_list(request, error=first_error(form), status=400)
    slider = create_slider(request.user, **form.cleaned_data)
    if request.htmx:
        return HttpResponseClientRedirect(slider.get_absolute_url())
    return redirect(slider)


@login_required
@require_safe
@answers_listener_errors
def slider_detail(request, pk):
    slider = _get_slider_for_user(request, pk)
    highest = cleaned(RankingForm(request.GET))["order"] == "high"
    context = {
        **_status_context(slider, request.user),
        "queue": rate_more(slider, request.user),
        "highest": highest,
        "ranked": _ranked_tracks(slider, SHOWN_RANKING, highest) if slider.lit else [],
    }
    return render(request, "sliders/slider.html", context)


@login_required
@require_POST
@answers_listener_errors
def slider_ratings(request, pk):
    slider = _get_slider_for_user(request, pk)
    data = cleaned(RatingForm(request.POST))
    rate(slider, request.user, data["track"], data["value"])
    slider.refresh_from_db()
    return render(request, "sliders/partials/status.html", _status_context(slider, request.user))


@login_required
@require_safe
def slider_status(request, pk):
    slider = _get_slider_for_user(request, pk)
    return render(request, "sliders/partials/status.html", _status_context(slider, request.user))


@login_required
@require_safe
def slider_queue(request, pk):
    slider = _get_slider_for_user(request, pk)
    return render(request, "sliders/partials/queue.html", {"slider": slider, "queue": rate_more(slider, request.user)})


@login_required
@require_safe
@answers_listener_errors
def slider_ranking(request, pk):
    slider = _get_slider_for_user(request, pk)
    highest = cleaned(RankingForm(request.GET))["order"] == "high"
    try:
        ranked = _ranked_tracks(slider, SHOWN_RANKING, highest)
    except SliderDark as dark:
        return bad_request(request, str(dark))
    context = {"slider": slider, "ranked": ranked, "highest": highest}
    return render(request, "sliders/partials/ranking.html", context)


@login_required
@require_safe
def slider_json(request, pk):
    slider = _get_slider_for_user(request, pk)
    fit = slider.fit or {}
    shuffled = fit.get("shuffled_skill")
    return JsonResponse(
        {
            "ratings": fit.get("ratings", 0),
            "lit": slider.lit,
            "loo_skill": float(fit.get("skill") or 0.0),
            # null while it was not worth measuring: too few ratings, or a skill below the gate anyway.
            "shuffled_skill": None if shuffled is None else float(shuffled),
        }
    )


@login_required
@require_safe
def slider_ranking_json(request, pk):
    slider = _get_slider_for_user(request, pk)
    form = RankingForm(request.GET)
    if not form.is_valid():
        return JsonResponse({"error": first_error(form)}, status=400)
    limit, highest = form.cleaned_data["limit"] or 50, form.cleaned_data["order"] == "high"
    try:
        pairs = ranking(slider, limit=limit, highest=highest)
    except SliderDark as dark:
        return JsonResponse({"error": "This slider is still dark.", "reason": str(dark)}, status=403)
    return JsonResponse(
        {"slider": slider.pk, "results": [{"track_id": pk, "predicted": round(value, 4)} for pk, value in pairs]}
    )


@login_required
@require_safe
def rating_widget(request, track_id):
    """The listener's sliders with 1–5 buttons for one track, loaded on demand under a result."""
    track = get_object_or_404(Track.objects.visible(), pk=track_id)
    own = dict(SliderRating.objects.filter(user=request.user, track=track).values_list("slider_id", "value"))
    rows = [(slider, own.get(slider.pk)) for slider in visible_sliders(request.user).order_by("name")]
    return render(request, "sliders/partials/rating_widget.html", {"track": track, "rows": rows})
