from django.urls import path

from tracks import views

urlpatterns = [
    path("<int:pk>/audio/", views.track_audio, name="track_audio"),
    path("<int:pk>/stream/<str:token>/", views.track_stream, name="track_stream"),
]
