from django.urls import path

from taste.stations import play_views

urlpatterns = [
    path("plays/", play_views.plays, name="plays"),
    path("plays/now/", play_views.now_playing, name="plays_now"),
    path("plays/<int:pk>/undo/", play_views.undo_play, name="play_undo"),
    path("history/", play_views.history, name="play_history"),
]
