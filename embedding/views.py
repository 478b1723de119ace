from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_safe

from embedding.progress import embedding_progress


@login_required
@require_safe
def progress(request):
    if not request.user.is_staff:
        raise Http404
    return render(request, "embedding/partials/progress.html", {"progress": embedding_progress()})
