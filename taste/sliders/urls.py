from django.urls import path

from taste.sliders import views

urlpatterns = [
    path("", views.sliders, name="slider_list"),
    path("public/", views.shared_sliders, name="slider_public"),
    path("<int:pk>/", views.slider_detail, name="slider_detail"),
    path("<int:pk>.json", views.slider_json, name="slider_json"),
    path("<int:pk>/ratings/", views.slider_ratings, name="slider_ratings"),
    path("<int:pk>/status/", views.slider_status, name="slider_status"),
    path("<int:pk>/verdict/", views.slider_verdict, name="slider_verdict"),
    path("<int:pk>/queue/", views.slider_queue, name="slider_queue"),
    path("<int:pk>/ranking/", views.slider_ranking, name="slider_ranking"),
    path("<int:pk>/ranking.json", views.slider_ranking_json, name="slider_ranking_json"),
    path("rate/<int:track_id>/", views.rating_widget, name="slider_rating_widget"),
]
