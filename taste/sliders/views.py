from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect

from discovery.lib.forms import cleaned, first_error
from discovery.lib.http import answers_listener_errors, bad_request
from taste.sliders.forms import RankingForm, RatingForm, SliderForm
from taste.sliders.learning import on_scale
from taste.sliders.models import Slider, SliderRating
from taste.sliders.services import (
    SliderDark,
    create_slider,
    public_sliders,
    ranking,
    rate,
    rate_more,
    visible_sliders,
)
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
    """The ranking with each prediction on the slider's 1–5 scale, as the page shows it."""
    pairs = ranking(slider, limit=limit, highest=highest)
    tracks = Track.objects.in_bulk([pk for pk, _ in pairs])
    return [(tracks[pk], on_scale(value)) for pk, value in pairs]


def _ends(slider: Slider) -> dict[str, list[Track]]:
    """The rated tracks that most define each end (services._ends), as tracks."""
    ends = (slider.fit or {}).get("ends") or {}
    tracks = Track.objects.visible().in_bulk([*ends.get("high", []), *ends.get("low", [])])
    return {side: [tracks[pk] for pk in ends.get(side, []) if pk in tracks] for side in ("high", "low")}


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
        "ends": _ends(slider),
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
    if data["reply"] == "row":
        track = get_object_or_404(Track.objects.visible(), pk=data["track"])
        context = {"slider": slider, "track": track, "current": data["value"], "fit": slider.fit or {}}
        return render(request, "sliders/partials/rating_row.html", context)
    return render(request, "sliders/partials/status.html", _status_context(slider, request.user))


@login_required
@require_safe
def slider_verdict(request, pk):
    """The slider's current verdict in one line, for a rating widget's row; it polls while the gate runs."""
    slider = _get_slider_for_user(request, pk)
    return render(request, "sliders/partials/verdict.html", {"slider": slider, "fit": slider.fit or {}})


@login_required
@require_safe
def shared_sliders(request):
    """Everyone's public sliders: to rate, or (when lit) to steer a station with."""
    return render(request, "sliders/public.html", {"sliders": public_sliders()})


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
    return JsonResponse(
        {
            "ratings": fit.get("ratings", 0),
            "listeners": fit.get("listeners", 0),
            "lit": slider.lit,
            # True while the gate measures the latest ratings; the fields below are then about earlier ones.
            "evaluating": bool(fit.get("evaluating")),
            "loo_skill": float(fit.get("skill") or 0.0),
            # null while it was not worth measuring: too few ratings, or a skill below the gate's minimum.
            "p_value": fit.get("p_value"),
            "level": fit.get("level"),
            "agreement": fit.get("agreement"),
            "needs": fit.get("needs", ""),
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
    rows = [(slider, own.get(slider.pk), slider.fit or {}) for slider in visible_sliders(request.user).order_by("name")]
    return render(request, "sliders/partials/rating_widget.html", {"track": track, "rows": rows})
