from django.urls import path

from discovery.atlas import views

urlpatterns = [
    path("map/", views.map_page, name="map"),
    path("map/points.bin", views.map_points, name="map_points"),
    path("map/meta.json", views.map_meta, name="map_meta"),
    path("map/recommender/", views.map_recommender, name="map_recommender"),
    path("map/summary.json", views.map_summary_json, name="map_summary"),
    path("map/tracks/<int:pk>.json", views.map_track, name="map_track"),
    path("map/locate.json", views.map_locate, name="map_locate"),
    path("map/sliders/<int:pk>.bin", views.map_slider, name="map_slider"),
    path("map/stations/<int:pk>.json", views.map_station, name="map_station"),
    path("map/station/", views.map_selection_station, name="map_selection_station"),
    path("path/", views.path_page, name="path"),
    path("path.json", views.path_json, name="path_json"),
    path("path.m3u", views.path_m3u, name="path_m3u"),
]
