from django.contrib import admin
from django.urls import include, path

from discovery import health, views
from embedding import artwork_views

admin.site.site_header = "Wavelength curation"
admin.site.site_title = "Wavelength admin"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("search/seed/<int:pk>/", views.seed_chip, name="seed_chip"),
    path("", include("discovery.browse.urls")),  # /artists/… and /albums/…
    path("accounts/", include("discovery.accounts.urls")),  # first: its password reset pages replace Django's
    path("accounts/", include("django.contrib.auth.urls")),
    path("tracks/<int:pk>/", views.track_detail, name="track_detail"),
    path("tracks/<int:pk>/artwork/", artwork_views.track_artwork, name="track_artwork"),
    path("tracks/", include("tracks.urls")),
    path("stations/", include("taste.stations.urls")),
    path("", include("taste.stations.play_urls")),  # /plays/… (the player's hooks) and /history/
    path("sliders/", include("taste.sliders.urls")),
    path("embedding/", include("embedding.urls")),
    path("library/", include("discovery.library.urls")),
    path("compare/", include("discovery.compare.urls")),
    path("", include("discovery.atlas.urls")),  # /map/… and /path/…
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
]
