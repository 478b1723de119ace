from django.contrib import admin

from taste.stations.models import Play, Station, StationSeed, Thumb


class StationSeedInline(admin.TabularInline):
    model = StationSeed
    extra = 0
    raw_id_fields = ["track"]


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "breadth", "explore", "updated"]
    list_select_related = ["owner"]
    search_fields = ["name", "owner__username"]
    inlines = [StationSeedInline]


@admin.register(Thumb)
class ThumbAdmin(admin.ModelAdmin):
    list_display = ["track", "value", "user", "station", "updated"]
    list_filter = ["value"]
    list_select_related = ["track", "user", "station"]
    raw_id_fields = ["track", "station", "user"]


@admin.register(Play)
class PlayAdmin(admin.ModelAdmin):
    list_display = ["track", "ended", "seconds", "user", "station", "recorded", "signal_undone"]
    list_filter = ["ended", "signal_undone"]
    list_select_related = ["track", "user", "station"]
    raw_id_fields = ["track", "station", "user"]
