from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect

from taste.models import Slider, SliderRating
from taste.responses import bad_request
from taste.services import StationError, parse_one_track_id
from taste.slider_services import (
    SliderDark,
    SliderError,
    create_slider,
    parse_rating,
    ranking,
    rate,
    rate_more,
    visible_sliders,
)
from tracks.models import Track

RANKING_MAX = 500


def _get_slider_for_user(request, pk) -> Slider:
    """A slider the user may see: their own, or a public one. Anyone else's private slider is a 404."""
    return get_object_or_404(visible_sliders(request.user), pk=pk)


def _status_context(slider: Slider, user) -> dict:
    fit = slider.fit or {}
    return {
        "slider": slider,
        "fit": fit,
        "my_ratings": SliderRating.objects.filter(slider=slider, user=user).count(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def sliders(request):
    if request.method == "POST":
        try:
            slider = create_slider(
                request.user,
                name=request.POST.get("name", ""),
                low_label=request.POST.get("low_label", ""),
                high_label=request.POST.get("high_label", ""),
                public=request.POST.get("public") in {"1", "on", "true", "yes"},
                description=request.POST.get("description", ""),
            )
        except SliderError as error:
            if request.htmx:
                return bad_request(request, str(error))
            return _slider_list(request, error=str(error), status=400)
        if request.htmx:
            return HttpResponseClientRedirect(slider.get_absolute_url())
        return redirect(slider)
    return _slider_list(request)


def _slider_list(request, error: str = "", status: int = 200):
    context = {
        "own": Slider.objects.filter(owner=request.user),
        "public": Slider.objects.filter(public=True).exclude(owner=request.user).select_related("owner"),
        "error": error,
    }
    return render(request, "taste/slider_list.html", context, status=status)


@login_required
@require_safe
def slider_detail(request, pk):
    slider = _get_slider_for_user(request, pk)
    highest = request.GET.get("order", "high") != "low"
    context = {
        **_status_context(slider, request.user),
        "queue": rate_more(slider, request.user),
        "highest": highest,
        "ranked": _ranked_tracks(slider, 20, highest) if slider.lit else [],
    }
    return render(request, "taste/slider.html", context)


def _ranked_tracks(slider: Slider, limit: int, highest: bool) -> list[tuple[Track, float]]:
    pairs = ranking(slider, limit=limit, highest=highest)
    tracks = Track.objects.in_bulk([pk for pk, _ in pairs])
    return [(tracks[pk], value) for pk, value in pairs]


@login_required
@require_POST
def slider_ratings(request, pk):
    slider = _get_slider_for_user(request, pk)
    try:
        track_id = parse_one_track_id(request.POST.getlist("track"))
        rate(slider, request.user, track_id, parse_rating(request.POST.get("value")))
    except (SliderError, StationError) as error:
        return bad_request(request, str(error))
    slider.refresh_from_db()
    return render(request, "taste/partials/slider_status.html", _status_context(slider, request.user))


@login_required
@require_safe
def slider_status(request, pk):
    slider = _get_slider_for_user(request, pk)
    return render(request, "taste/partials/slider_status.html", _status_context(slider, request.user))


@login_required
@require_safe
def slider_queue(request, pk):
    slider = _get_slider_for_user(request, pk)
    return render(request, "taste/partials/slider_queue.html", {"slider": slider, "queue": rate_more(slider, request.user)})


@login_required
@require_safe
def slider_ranking(request, pk):
    slider = _get_slider_for_user(request, pk)
    highest = request.GET.get("order", "high") != "low"
    try:
        ranked = _ranked_tracks(slider, 20, highest)
    except SliderDark as dark:
        return bad_request(request, str(dark))
    return render(request, "taste/partials/slider_ranking.html", {"slider": slider, "ranked": ranked, "highest": highest})


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
    try:
        limit = int(request.GET.get("limit", "50"))
    except ValueError:
        return JsonResponse({"error": "limit must be a whole number."}, status=400)
    if not 1 <= limit <= RANKING_MAX:
        return JsonResponse({"error": f"limit must be between 1 and {RANKING_MAX}."}, status=400)
    try:
        pairs = ranking(slider, limit=limit, highest=request.GET.get("order", "high") != "low")
    except SliderDark as dark:
        return JsonResponse({"error": "This slider is still dark.", "reason": str(dark)}, status=403)
    return JsonResponse(
        {"slider": slider.pk, "results": [{"track_id": pk, "predicted": round(value, 4)} for pk, value in pairs]}
    )


@login_required
@require_safe
def rating_widget(request, track_id):
    """The listener's sliders with 1–5 buttons for one track, loaded on demand under a result."""
    track = get_object_or_404(Track, pk=track_id, hidden=False)
    own = dict(SliderRating.objects.filter(user=request.user, track=track).values_list("slider_id", "value"))
    rows = [(slider, own.get(slider.pk)) for slider in visible_sliders(request.user).order_by("name")]
    return render(request, "taste/partials/rating_widget.html", {"track": track, "rows": rows})
