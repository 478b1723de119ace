"""The Add music pages, for staff only: folder scans, iTunes imports, uploads and the jobs that run them."""


from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect

from discovery.lib.forms import cleaned, first_error
from discovery.lib.http import answers_listener_errors, staff_only
from discovery.library import services
from discovery.library.folders import NO_MUSIC_DIRS, music_dirs
from discovery.library.forms import FolderScanForm, ITunesImportForm, ITunesSearchForm, UploadForm
from discovery.library.itunes_search import search_failure, search_songs
from discovery.library.models import ImportJob
from embedding.progress import embedding_progress
from tracks.itunes import ITunesError


def _home_page(request, folder_form=None, status=200):
    context = {
        "folder_form": folder_form or FolderScanForm(),
        "search_form": ITunesSearchForm(),
        "music_dirs": music_dirs(),
        "no_music_dirs": NO_MUSIC_DIRS,
        "rescan_minutes": settings.MUSIC_RESCAN_MINUTES,
        "max_upload_mb": settings.MAX_UPLOAD_MB,
        "max_upload_files": settings.DATA_UPLOAD_MAX_NUMBER_FILES,
        "jobs": services.recent_jobs(),
    }
    return render(request, "library/home.html", context, status=status)


@staff_only
@require_safe
def home(request):
    return _home_page(request)


@staff_only
@require_POST
def scan_folder(request):
    form = FolderScanForm(request.POST)
    if not form.is_valid():
        return _home_page(request, folder_form=form, status=400)
    folder = form.cleaned_data["folder"]
    running = services.scan_in_progress(folder)
    if running is not None:
        messages.info(request, f"{folder} is being scanned already; this is that scan.")
        return redirect(running)
    return redirect(services.start_folder_scan(request.user, folder))


@staff_only
@require_safe
def itunes_search(request):
    form = ITunesSearchForm(request.GET or None)
    hits, error, status = [], "", 200
    if form.is_bound and not form.is_valid():
        error, status = first_error(form), 400
    elif form.is_bound:
        try:
            hits = search_songs(form.cleaned_data["term"], form.cleaned_data["country"])
        except ITunesError as failure:
            error, status = search_failure(failure), 502
    context = {"form": form, "hits": hits, "error": error, "searched": form.is_bound and not error}
    # An error is part of the results fragment, so HTMX is answered 200 and swaps it in like any result.
    if request.htmx:
        return render(request, "library/partials/itunes_hits.html", context)
    return render(request, "library/itunes.html", context, status=status)


@staff_only
@require_POST
@answers_listener_errors
def itunes_import(request):
    data = cleaned(ITunesImportForm(request.POST))
    return redirect(services.start_itunes_import(request.user, data["term"], data["country"], data["track"]))


@staff_only
@require_POST
@answers_listener_errors
def upload(request):
    files = cleaned(UploadForm(request.POST, request.FILES))["files"]
    job = services.start_upload(request.user, files)
    # The page's script uploads with XMLHttpRequest (for its progress bar) and follows HX-Redirect.
    return HttpResponseClientRedirect(job.get_absolute_url()) if request.htmx else redirect(job)


def _job_context(job):
    return {"job": job, "tracks": services.job_tracks(job), "can_retry": services.can_retry(job)}


@staff_only
@require_safe
def job_detail(request, pk):
    job = get_object_or_404(ImportJob.objects.select_related("created_by", "retry_of"), pk=pk)
    context = {**_job_context(job), "progress": embedding_progress()}
    return render(request, "library/job.html", context)


@staff_only
@require_safe
def job_progress(request, pk):
    job = get_object_or_404(ImportJob, pk=pk)
    return render(request, "library/partials/job_progress.html", _job_context(job))


@staff_only
@require_POST
def job_retry(request, pk):
    job = get_object_or_404(ImportJob, pk=pk)
    retry = services.retry_failed(job, request.user)
    if retry.requeued_tracks:
        messages.success(request, f"Queued {retry.requeued_tracks} track(s) to be embedded again.")
    if retry.job is not None:
        return redirect(retry.job)
    if not retry.requeued_tracks:
        messages.info(request, "Nothing of this job can be tried again.")
    return redirect(job)
