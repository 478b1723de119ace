from django.urls import path

from tracks import views

urlpatterns = [
    path("<int:pk>/", views.track_detail, name="track_detail"),
    path("<int:pk>/audio/", views.track_audio, name="track_audio"),
]
