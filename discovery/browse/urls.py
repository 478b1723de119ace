from django.urls import path

from discovery.browse import views

# <slug:ref> is "<readable slug>-<key>" (discovery/browse/services.py): any artist or album name fits.
urlpatterns = [
    path("artists/", views.artist_list, name="artist_list"),
    path("artists/<slug:ref>/", views.artist_detail, name="artist_detail"),
    path("artists/<slug:ref>/station/", views.artist_station, name="artist_station"),
    path("albums/", views.album_list, name="album_list"),
    path("albums/<slug:ref>/", views.album_detail, name="album_detail"),
    path("albums/<slug:ref>/station/", views.album_station, name="album_station"),
]
