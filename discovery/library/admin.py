from django.contrib import admin

from discovery.library.models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Jobs are written by their tasks; the admin shows them and lets staff delete old ones."""

    list_display = [
        "__str__", "kind", "status", "created_by", "scheduled", "added", "updated", "failed_count", "created",
    ]
    list_filter = ["kind", "status", "scheduled"]
    list_select_related = ["created_by"]
    readonly_fields = [f.name for f in ImportJob._meta.get_fields() if f.concrete and not f.many_to_many]
    exclude = ["tracks"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
