from django.urls import path

from taste import views

urlpatterns = [
    path("", views.station_list, name="station_list"),
]
