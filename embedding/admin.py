from django.contrib import admin, messages
from django.db.models import Count, Exists, OuterRef

from embedding.models import EmbeddingModel, TrackEmbedding
from embedding.promotion import NotReadyToPromote, promote_to_default
from embedding.services import enqueue_embedding, mark_pending_and_enqueue
from tracks.admin import TrackAdmin
from tracks.models import Track


@admin.register(EmbeddingModel)
class EmbeddingModelAdmin(admin.ModelAdmin):
    list_display = ["name", "dim", "is_default", "vector_count", "weights_sha256", "created"]
    readonly_fields = ["created"]
    actions = ["make_default"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(vector_count=Count("embeddings"))

    def get_readonly_fields(self, request, obj=None):
        # A model's dimension is fixed once it exists: its vectors and its index depend on it.
        if obj is not None:
            return [*self.readonly_fields, "dim"]
        return self.readonly_fields

    @admin.display(description="vectors", ordering="vector_count")
    def vector_count(self, obj):
        return obj.vector_count

    @admin.action(description="Make the selected model the default")
    def make_default(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one model to make the default.", messages.ERROR)
            return
        model = queryset.get()
        try:
            notes = promote_to_default(model)
        except NotReadyToPromote as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        self.message_user(request, f"The {model.name} model is now the default.", messages.SUCCESS)
        for note in notes:
            self.message_user(request, note, messages.WARNING)


class EmbeddedByFilter(admin.SimpleListFilter):
    """Which tracks have (or still lack) a vector from a given model."""

    title = "embedded by model"
    parameter_name = "embedded_by"
    MISSING_PREFIX = "missing:"

    def lookups(self, request, model_admin):
        choices = []
        for model in EmbeddingModel.objects.all():
            choices.append((model.name, f"{model.name}: embedded"))
            choices.append((f"{self.MISSING_PREFIX}{model.name}", f"{model.name}: not embedded"))
        return choices

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        missing = value.startswith(self.MISSING_PREFIX)
        name = value.removeprefix(self.MISSING_PREFIX)
        embedded = Exists(TrackEmbedding.objects.filter(track=OuterRef("pk"), model__name=name))
        return queryset.filter(~embedded if missing else embedded)


class TrackEmbeddingInline(admin.TabularInline):
    """Read-only: vectors are written by the embedding jobs, never by hand."""

    model = TrackEmbedding
    extra = 0
    can_delete = False
    fields = ["model", "dimensions", "top_tags_summary", "created"]
    readonly_fields = fields
    verbose_name_plural = "Embeddings"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="dimensions")
    def dimensions(self, obj):
        return len(obj.vector) if obj.vector is not None else "—"

    @admin.display(description="top tags")
    def top_tags_summary(self, obj):
        tags = obj.top_tags(5)
        if not tags:
            return "—"
        return ", ".join(f"{name} {score:.2f}" for name, score in tags)


# The catalogue's admin knows nothing of vectors (tracks sit below embedding); this app adds what it owns to the
# Track pages: a filter by model, the vectors inline, "embed again" actions, and queueing uploads for the worker.
admin.site.unregister(Track)


@admin.register(Track)
class EmbeddedTrackAdmin(TrackAdmin):
    list_filter = [*TrackAdmin.list_filter, EmbeddedByFilter]
    actions = [*TrackAdmin.actions, "mark_for_reembedding", "retry_failed"]
    inlines = [TrackEmbeddingInline]

    @admin.action(description="Embed selected tracks again")
    def mark_for_reembedding(self, request, queryset):
        # Existing vectors stay until new ones replace them, so search keeps working meanwhile.
        ids = list(queryset.values_list("pk", flat=True))
        mark_pending_and_enqueue(ids)
        self.message_user(request, f"Queued {len(ids)} track(s) to be embedded again.", messages.SUCCESS)

    @admin.action(description="Retry the failed ones among the selected tracks")
    def retry_failed(self, request, queryset):
        ids = list(queryset.filter(status=Track.Status.FAILED).values_list("pk", flat=True))
        mark_pending_and_enqueue(ids)
        self.message_user(request, f"Queued {len(ids)} failed track(s) to be tried again.", messages.SUCCESS)

    def tracks_uploaded(self, request, track_ids: list[int]) -> None:
        enqueue_embedding(track_ids)
        self.message_user(request, f"Added {len(track_ids)} track(s); they are queued for embedding.")
