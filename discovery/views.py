from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required, login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from discovery.forms import SignupForm
from discovery.services import corpus_summary
from embedding.progress import embedding_progress


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
