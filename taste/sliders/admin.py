from django.contrib import admin

from taste.sliders.models import Slider, SliderRating


@admin.register(Slider)
class SliderAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "public", "lit", "embedding_model", "updated"]
    list_filter = ["public", "lit", "embedding_model"]
    list_select_related = ["owner", "embedding_model"]
    search_fields = ["name", "owner__username"]
    readonly_fields = ["fit", "lit", "created", "updated"]


@admin.register(SliderRating)
class SliderRatingAdmin(admin.ModelAdmin):
    list_display = ["track", "slider", "value", "user", "updated"]
    list_select_related = ["track", "slider", "user"]
    raw_id_fields = ["track", "slider", "user"]
