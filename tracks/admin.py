from django.contrib import admin, messages
from django.db import models
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from tracks.forms import AudioUploadForm
from tracks.models import LibraryRoot, Track
from tracks.services import ingest_upload


class DuplicateFilter(admin.SimpleListFilter):
    title = "duplicate"
    parameter_name = "duplicate"

    def lookups(self, request, model_admin):
        return [("yes", "Duplicate of another track"), ("no", "Canonical")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(duplicate_of__isnull=False)
        if self.value() == "no":
            return queryset.filter(duplicate_of__isnull=True)
        return queryset


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = ["title", "artist", "album", "source", "status", "hidden", "is_duplicate", "duration", "created"]
    list_display_links = ["title"]
    list_filter = ["status", "source", "hidden", DuplicateFilter]
    search_fields = ["title", "artist", "album"]
    list_select_related = ["duplicate_of"]
    list_per_page = 100
    actions = ["hide_tracks", "unhide_tracks"]
    raw_id_fields = ["duplicate_of"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    # Where a track's audio comes from is set by ingest only: a curator who could point audio_path at any file
    # would let every listener download it. The audio view checks the path against the roots as well.
    source_fields = ["source", "source_key", "audio_file", "audio_path", "content_sha256"]
    readonly_fields = ["audio_player", *source_fields, "status", "error", "created", "updated", "duplicates_list"]
    fieldsets = [
        (None, {"fields": ["title", "artist", "album", "genre", "year", "duration_s", "audio_player"]}),
        ("Source", {"fields": ["source", "source_key", "audio_file", "audio_path", "preview_url", "artwork_url"]}),
        (
            "State",
            {"fields": ["status", "error", "hidden", "duplicate_of", "duplicates_list", "content_sha256"]},
        ),
        ("History", {"fields": ["created", "updated"], "classes": ["collapse"]}),
    ]

    @admin.display(boolean=True, description="duplicate")
    def is_duplicate(self, obj):
        return obj.duplicate_of_id is not None

    @admin.display(description="duration", ordering="duration_s")
    def duration(self, obj):
        if obj.duration_s is None:
            return "—"
        minutes, seconds = divmod(round(obj.duration_s), 60)
        return f"{minutes}:{seconds:02d}"

    @admin.display(description="listen")
    def audio_player(self, obj):
        if obj.pk is None or not obj.has_audio:
            return "No audio yet."
        return format_html(
            '<audio controls preload="none" src="{}" data-track-id="{}"></audio>',
            reverse("track_audio", args=[obj.pk]),
            obj.pk,
        )

    @admin.display(description="its duplicates")
    def duplicates_list(self, obj):
        duplicates = obj.duplicates.all() if obj.pk else []
        if not duplicates:
            return "—"
        return format_html_join(
            ", ", '<a href="{}">{}</a>', ((reverse("admin:tracks_track_change", args=[d.pk]), d) for d in duplicates)
        )

    @admin.action(description="Hide selected tracks from recommendations")
    def hide_tracks(self, request, queryset):
        count = queryset.update(hidden=True)
        self.message_user(request, f"Hid {count} track(s).", messages.SUCCESS)

    @admin.action(description="Unhide selected tracks")
    def unhide_tracks(self, request, queryset):
        count = queryset.update(hidden=False)
        self.message_user(request, f"Unhid {count} track(s).", messages.SUCCESS)

    def tracks_uploaded(self, request, track_ids: list[int]) -> None:
        """Called with the tracks an upload added or changed; the embedding app's admin queues them."""
        self.message_user(request, f"Added {len(track_ids)} track(s).")

    def add_view(self, request, form_url="", extra_context=None):
        # Tracks are added by ingest (a folder, iTunes, or an upload here), never typed in by hand.
        return redirect("admin:tracks_track_upload")

    def get_urls(self):
        upload = path("upload/", self.admin_site.admin_view(self.upload_view), name="tracks_track_upload")
        return [upload, *super().get_urls()]

    def upload_view(self, request):
        """Curators add audio files here; they take the same path as a folder ingest, then get embedded."""
        if not self.has_add_permission(request):
            return redirect("admin:tracks_track_changelist")
        form = AudioUploadForm(request.POST, request.FILES) if request.method == "POST" else AudioUploadForm()
        if request.method == "POST" and form.is_valid():
            defaults = {k: v for k, v in form.cleaned_data.items() if k != "files" and v}
            queued = []
            for uploaded in form.cleaned_data["files"]:
                track, outcome = ingest_upload(uploaded, fallbacks=defaults)
                if outcome == "failed":
                    self.message_user(request, f"{uploaded.name}: {track.error}", messages.ERROR)
                elif outcome == "unchanged":
                    self.message_user(request, f"{uploaded.name} is already in the catalogue.", messages.INFO)
                else:
                    queued.append(track.pk)
            if queued:
                self.tracks_uploaded(request, queued)
            return redirect("admin:tracks_track_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": "Upload audio",
        }
        return TemplateResponse(request, "admin/tracks/track/upload.html", context, status=400 if form.errors else 200)


@admin.register(LibraryRoot)
class LibraryRootAdmin(admin.ModelAdmin):
    """The folders `manage.py ingest_folder` read, besides MUSIC_DIRS: shown, never written here."""

    list_display = ["path", "created"]
    readonly_fields = ["path", "created"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
