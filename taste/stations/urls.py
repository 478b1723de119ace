from django.urls import path

from taste.stations import views

urlpatterns = [
    path("", views.stations, name="station_list"),
    path("liked/", views.liked_tracks, name="liked_tracks"),
    path("<int:pk>/", views.station_detail, name="station_detail"),
    path("<int:pk>/thumbs/", views.station_thumbs, name="station_thumbs"),
    path("<int:pk>/seeds/", views.station_seeds, name="station_seeds"),
    path("<int:pk>/results/", views.station_results, name="station_results"),
    path("<int:pk>/knobs/", views.station_knobs, name="station_knobs"),
    path("<int:pk>/queue.json", views.station_queue, name="station_queue"),
    path("<int:pk>/results.json", views.station_results_json, name="station_results_json"),
    path("<int:pk>/playlist.m3u", views.station_playlist, {"fmt": "m3u"}, name="station_playlist_m3u"),
    path("<int:pk>/playlist.xspf", views.station_playlist, {"fmt": "xspf"}, name="station_playlist_xspf"),
]
