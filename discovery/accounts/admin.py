from django.contrib import admin

from discovery.accounts.models import Invite


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = ["__str__", "created_by", "created", "expires_at", "used_by", "used_at", "revoked_at"]
    list_select_related = ["created_by", "used_by"]
    readonly_fields = ["token", "created", "used_by", "used_at"]
    raw_id_fields = ["created_by"]
    search_fields = ["note", "created_by__username", "used_by__username"]
