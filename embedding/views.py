from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_safe

from discovery.lib.forms import cleaned
from discovery.lib.http import answers_listener_errors
from embedding.base import DEFAULT_TRAINED_MODEL
from embedding.forms import TrainingForm
from embedding.progress import embedding_progress
from embedding.training_jobs import latest_training_run, queue_training


@login_required
@require_safe
def progress(request):
    if not request.user.is_staff:
        raise Http404
    return render(request, "embedding/partials/progress.html", {"progress": embedding_progress()})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@answers_listener_errors
def training(request):
    """Staff: the latest training run of our own model (polled while busy); POST queues a new one."""
    if not request.user.is_staff:
        raise Http404
    if request.method == "POST":
        data = cleaned(TrainingForm(request.POST))
        queue_training(DEFAULT_TRAINED_MODEL, epochs=data["epochs"], max_minutes=data["max_minutes"])
    context = {"run": latest_training_run(), "name": DEFAULT_TRAINED_MODEL}
    return render(request, "embedding/partials/training.html", context)
