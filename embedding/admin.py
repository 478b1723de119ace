from django.contrib import admin, messages
from django.db.models import Count

from embedding.models import EmbeddingModel


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
        model.is_default = True
        model.save()
        self.message_user(request, f"{model.name} is now the default model.", messages.SUCCESS)
